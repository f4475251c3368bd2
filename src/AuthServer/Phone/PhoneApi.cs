using AuthServer.Clients;
using AuthServer.Data;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using AuthServer.Endpoints;
using AuthServer.Localization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;
using OpenIddict.Abstractions;

namespace AuthServer.Phone;

/// <summary>
/// The signed-in phone's API: scan a waiting screen's code, approve or deny it with the one-time confirm ticket the
/// scan returned, and manage linked devices. It is the second door to the same transitions as the verification page
/// (<see cref="DeviceFlowService"/>). Errors are RFC 9457 problem details.
/// </summary>
public static class PhoneApi
{
    public const string Prefix = "/api/phone";
    public const string DocumentName = "phone";
    public const string ScansPath = "/scans";

    public static RouteGroupBuilder MapPhoneApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix)
            .AddEndpointFilter<PhoneTokenFilter>()
            .WithGroupName(DocumentName)
            .WithTags("Phone")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapPost(ScansPath, ScanAsync).WithSummary("Scan a waiting screen's QR code (or typed user code) and claim its login request.");
        api.MapPost("/scans/{scanId}/approve", ApproveAsync).WithSummary("Approve a scanned login request with the confirm ticket.");
        api.MapPost("/scans/{scanId}/deny", DenyAsync).WithSummary("Deny a scanned login request with the confirm ticket.");
        api.MapGet("/devices", ListDevicesAsync).WithSummary("The account's linked devices.");
        api.MapDelete("/devices/{id}", LogOutDeviceAsync).WithSummary("Log a linked device out: its tokens stop working at once.");
        return api;
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) => PhoneTokenFilter.Problem(status, title, detail);

    public static async Task<Results<Created<ScanResponse>, ProblemHttpResult>> ScanAsync(
        ScanRequest body, HttpContext context, DeviceFlowService flow, GuessLimiter guesses, ClientStore clients, ScopeCatalog scopes,
        TimeProvider clock, IStringLocalizer<SharedResource> text)
    {
        var token = PhoneTokenFilter.TokenOf(context);
        var cancellationToken = context.RequestAborted;
        // RFC 8628 §5.1: every scan is a user-code lookup, and unknown codes count.
        var (refusal, found) = await guesses.LookUpAsync(context, token.Subject,
            UserCode.TryNormalize(ExtractUserCode(body.Code), out var userCode) ? userCode : null, flow.FindByUserCodeAsync);
        if (refusal is not null)
        {
            refusal.Apply(context.Response);
            return Problem(StatusCodes.Status429TooManyRequests, "Too many attempts", "Too many codes were tried. Wait a minute, then try again.");
        }

        if (found is null) return Problem(StatusCodes.Status404NotFound, "Unknown code", "No login request has this code.");
        if (!found.IsOpen(clock.GetUtcNow()))
            return Closed(found, clock);

        // The claim and the phone's confirm ticket are one statement.
        var scan = await flow.ScanAsync(found, token.Subject, token.DeviceId, cancellationToken);
        if (scan.Outcome == ScanOutcome.ClaimedByAnotherAccount)
            return Problem(StatusCodes.Status409Conflict, "Claimed by another account", "Another account scanned this code first (RFC 8628 §5.5).");
        if (scan is not { Outcome: ScanOutcome.Claimed, Ticket: { } ticket, TicketExpiresAt: { } ticketExpiresAt, State: { } state })
            return Closed(scan.State ?? found, clock);

        var client = clients.Find(state.ClientId);
        return TypedResults.Created((string?)null, new ScanResponse(
            state.Id,
            ticket,
            UserCode.Format(state.UserCode),
            new ClientSummary(state.ClientId, client?.DisplayName ?? state.ClientId, client?.LogoUri),
            new Requester(state.DeviceName, state.RequesterUserAgent, state.RequesterIp, state.CreatedAt,
                UserAgentSummary.Describe(state.RequesterUserAgent, text[UserAgentSummary.OnPattern])),
            state.Scopes,
            // What the phone shows its user is in the phone's language (its cookie or Accept-Language); the scope
            // names beside them are the protocol's.
            [.. state.Scopes.Select(scope => text[scopes.Describe(scope)].Value)],
            ticketExpiresAt,
            state.MatchNumber is { } number ? NumberMatching.Choices(number) : null));
    }

    public static Task<Results<NoContent, ProblemHttpResult>> ApproveAsync(
        string scanId, DecisionRequest body, HttpContext context, DeviceFlowService flow, TimeProvider clock) =>
        DecideAsync(scanId, body, approve: true, context, flow, clock);

    public static Task<Results<NoContent, ProblemHttpResult>> DenyAsync(
        string scanId, DecisionRequest body, HttpContext context, DeviceFlowService flow, TimeProvider clock) =>
        DecideAsync(scanId, body with { Number = null }, approve: false, context, flow, clock);

    /// <summary>
    /// <c>/api/phone/scans/{id}/approve|deny</c>: the phone API's door to the verification endpoint
    /// (<see cref="Handlers.VerificationHandlers.RecognisePhoneDecisions"/>).
    /// </summary>
    public static bool TryParseDecisionPath(PathString path, out string scanId, out bool approve)
    {
        scanId = "";
        approve = false;
        var segments = (path.Value ?? "").Split('/');
        // "", "api", "phone", "scans", "{id}", "approve|deny"
        if (segments.Length != 6 || segments[0] != "" || segments[1] != "api" || segments[2] != "phone" || segments[3] != "scans"
            || segments[4].Length == 0 || segments[5] is not ("approve" or "deny"))
            return false;
        scanId = Uri.UnescapeDataString(segments[4]);
        approve = segments[5] == "approve";
        return true;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DecideAsync(
        string scanId, DecisionRequest body, bool approve, HttpContext context, DeviceFlowService flow, TimeProvider clock)
    {
        var token = PhoneTokenFilter.TokenOf(context);
        if (string.IsNullOrEmpty(body.ConfirmTicket))
            return Problem(StatusCodes.Status403Forbidden, "Confirm ticket required", "Send the confirm_ticket the scan returned.");

        var (outcome, decided) = await flow.DecideAsync(scanId, token.Subject, approve, body.Number,
            new TicketProof(body.ConfirmTicket, token.DeviceId), context.RequestAborted);
        if (outcome is DecisionOutcome.Approved or DecisionOutcome.Denied or DecisionOutcome.WrongNumber)
            await Verification.CompleteAsync(context, decided!, clock);
        return outcome switch
        {
            DecisionOutcome.Approved or DecisionOutcome.Denied => TypedResults.NoContent(),
            DecisionOutcome.WrongNumber => Problem(StatusCodes.Status403Forbidden, "Wrong number", "That is not the number on the screen; the request was denied."),
            DecisionOutcome.NotFound => Problem(StatusCodes.Status404NotFound, "Unknown scan", "No login request has this id."),
            // RefusalAsync always hands back the request it refused, so the 410 can say why it is closed.
            DecisionOutcome.NotOpen => Closed(decided!, clock),
            DecisionOutcome.NotYours => Problem(StatusCodes.Status409Conflict, "Claimed by another account", "Another account scanned this code."),
            _ => Problem(StatusCodes.Status403Forbidden, "Invalid confirm ticket", "The confirm ticket is wrong, used, expired, or belongs to another scan or phone."),
        };
    }

    public static async Task<Ok<List<LinkedDeviceView>>> ListDevicesAsync(HttpContext context, AuthServerDbContext db, ClientStore clients)
    {
        var token = PhoneTokenFilter.TokenOf(context);
        var devices = await LinkedDevices.ActiveOfAsync(db, token.Subject, context.RequestAborted);
        return TypedResults.Ok(devices.Select(d =>
        {
            var client = clients.Find(d.ClientId);
            return new LinkedDeviceView(d.Id, d.Name, new ClientSummary(d.ClientId, client?.DisplayName ?? d.ClientId, client?.LogoUri),
                d.CreatedAt, d.LastUsedAt, d.LastIp, d.Id == token.DeviceId);
        }).ToList());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> LogOutDeviceAsync(
        string id, HttpContext context, AuthServerDbContext db, IOpenIddictAuthorizationManager authorizations, IOpenIddictTokenManager tokens)
    {
        var token = PhoneTokenFilter.TokenOf(context);
        return await LinkedDevices.LogOutAsync(db, authorizations, tokens, id, token.Subject, context.RequestAborted)
            ? TypedResults.NoContent()
            : Problem(StatusCodes.Status404NotFound, "Unknown device", "This account has no such signed-in device.");
    }

    /// <summary>
    /// A closed request is <c>410</c> either way, with a <c>reason</c> the app can put in the user's words: an expired
    /// or superseded code ("expired": scan the screen's new code) is a different story from a code that was already
    /// approved or denied ("used": someone decided it, perhaps not this user).
    /// </summary>
    private static ProblemHttpResult Closed(DeviceAuthorizationState state, TimeProvider clock)
    {
        var expired = state.RanOut(clock.GetUtcNow());
        return TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "Request closed",
            detail: expired
                ? "This code has expired or was replaced by a newer one on the screen."
                : "This code has already been used: the request was approved or denied.",
            extensions: new Dictionary<string, object?> { ["reason"] = expired ? ClosedReasons.Expired : ClosedReasons.Used });
    }

    /// <summary>The <c>reason</c> of a 410 problem.</summary>
    public static class ClosedReasons
    {
        public const string Expired = "expired";
        public const string Used = "used";
    }

    /// <summary>The phone may send what it scanned (the whole verification URL) or what the user typed.</summary>
    public static string? ExtractUserCode(string? scanned)
    {
        if (string.IsNullOrWhiteSpace(scanned)) return null;
        if (Uri.TryCreate(scanned.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
            return Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query).TryGetValue("user_code", out var code) ? code.ToString() : null;
        return scanned;
    }
}
