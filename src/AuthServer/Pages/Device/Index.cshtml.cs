using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Endpoints;
using AuthServer.Localization;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace AuthServer.Pages.Device;

/// <summary>
/// The verification page (RFC 8628 §3.3): the signed-in user enters or follows a user code, sees who is asking, and
/// approves or denies. Opening the consent view counts as the scan and claims the request for this account (§5.5).
/// </summary>
[Authorize]
public sealed class IndexModel(
    DeviceFlowService flow, ClientStore clients, ScopeCatalog scopes, GuessLimiter guesses, TimeProvider clock,
    IStringLocalizer<SharedResource> text) : PageModel
{
    public DevicePageState State { get; private set; } = DevicePageState.EnterCode;
    public ConsentViewModel? Consent { get; private set; }
    public string? DeviceName { get; private set; }

    private string UserId => User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;

    public async Task OnGetAsync([FromQuery(Name = "user_code")] string? userCode)
    {
        if (userCode is null) return;
        if (await FindAsync(userCode) is not { } request) return;

        var (outcome, state, _, _) = await flow.ScanAsync(request, UserId, phoneDeviceId: null, HttpContext.RequestAborted);
        State = outcome switch
        {
            ScanOutcome.Claimed => DevicePageState.Consent,
            ScanOutcome.ClaimedByAnotherAccount => DevicePageState.ClaimedByAnotherAccount,
            _ => Closed(state ?? request),
        };
        if (State == DevicePageState.Consent) Consent = ToViewModel(state!);
    }

    public Task OnPostApproveAsync(int? number) => DecideAsync(approve: true, number);

    public Task OnPostDenyAsync() => DecideAsync(approve: false, number: null);

    private async Task DecideAsync(bool approve, int? number)
    {
        if (await FindAsync(Request.Form["user_code"]) is not { } request) return;

        var (outcome, current) = await flow.DecideAsync(request.Id, UserId, approve, number, ticket: null, HttpContext.RequestAborted);
        if (outcome is DecisionOutcome.Approved or DecisionOutcome.Denied or DecisionOutcome.WrongNumber)
            await Verification.CompleteAsync(HttpContext, current!, clock);
        DeviceName = request.DeviceName ?? clients.Find(request.ClientId)?.DisplayName;
        State = outcome switch
        {
            DecisionOutcome.Approved => DevicePageState.Approved,
            DecisionOutcome.Denied => DevicePageState.Denied,
            DecisionOutcome.WrongNumber => DevicePageState.WrongNumber,
            DecisionOutcome.NotYours => DevicePageState.ClaimedByAnotherAccount,
            _ => Closed(current ?? request),
        };
    }

    /// <summary>
    /// The request behind a typed or linked code, or null with the page set to say why there is none: our own record,
    /// which still knows a code OpenIddict has finished with, so the page can say it was used or has expired. Every
    /// lookup counts against the guessing limits (RFC 8628 §5.1), and a limited caller learns nothing about the code.
    /// </summary>
    private async Task<DeviceAuthorizationState?> FindAsync(string? userCode)
    {
        var (refusal, found) = await guesses.LookUpAsync(HttpContext, UserId,
            UserCode.TryNormalize(userCode, out var normalized) ? normalized : null, flow.FindByUserCodeAsync);
        if (refusal is not null)
        {
            refusal.Apply(Response);
            State = DevicePageState.TooManyAttempts;
            return null;
        }
        State = DevicePageState.NotFound;
        return found;
    }

    private DevicePageState Closed(DeviceAuthorizationState state) =>
        state.RanOut(clock.GetUtcNow()) ? DevicePageState.Expired : DevicePageState.Finished;

    private ConsentViewModel ToViewModel(DeviceAuthorizationState state) => new(
        UserCode.Format(state.UserCode),
        clients.Find(state.ClientId)?.DisplayName ?? state.ClientId,
        clients.Find(state.ClientId)?.LogoUri,
        state.DeviceName,
        state.RequesterUserAgent,
        state.RequesterIp,
        Ago(clock.GetUtcNow() - state.CreatedAt),
        state.CreatedAt,
        Phone.UserAgentSummary.Describe(state.RequesterUserAgent, text[Phone.UserAgentSummary.OnPattern]),
        state.Scopes.Select(scope => text[scopes.Describe(scope)].Value).ToList(),
        state.MatchNumber is { } number ? NumberMatching.Choices(number) : null);

    private string Ago(TimeSpan elapsed) => elapsed.TotalSeconds switch
    {
        < 5 => text["just now"],
        < 60 => text["{0} seconds ago", (int)elapsed.TotalSeconds],
        < 120 => text["a minute ago"],
        < 3600 => text["{0} minutes ago", (int)elapsed.TotalMinutes],
        _ => text["{0} hours ago", (int)elapsed.TotalHours],
    };
}
