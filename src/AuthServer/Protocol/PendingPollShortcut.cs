using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Handlers;
using AuthServer.Hosting;
using AuthServer.Dpop;
using Microsoft.Net.Http.Headers;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Protocol;

/// <summary>
/// The pending poll (RFC 8628 §3.5) of a public client, answered at the front of the pipeline. Waiting screens poll
/// every few seconds for minutes, and almost every poll finds nothing new: routing, CORS, the cookie handler and
/// OpenIddict's request pipeline (extraction, endpoint inference, the dispatcher) were most of such a poll's cost
/// (docs/benchmarks.md). This answers only <c>authorization_pending</c> and <c>slow_down</c>, which issue nothing, for a
/// request this node holds, with the very bookkeeping <see cref="TokenHandlers.AnswerPollFromMemory"/> uses; anything
/// else — a token, an error about the client or the code, a confidential client, a DPoP proof, a browser's CORS
/// request, an unusual form — goes on to OpenIddict untouched, which validates every request that can lead to tokens.
/// </summary>
public static class PendingPollShortcut
{
    /// <summary>A device-code poll is three short fields; anything longer is not one this answers.</summary>
    private const long MaxBodyLength = 1024;

    private const string FormContentType = "application/x-www-form-urlencoded";

    private static readonly byte[] PendingBody = Body(Errors.AuthorizationPending, TokenHandlers.PendingDescription);
    private static readonly byte[] SlowDownBody = Body(Errors.SlowDown, TokenHandlers.SlowDownDescription);

    public static IApplicationBuilder UsePendingPollShortcut(this IApplicationBuilder app)
    {
        var cache = app.ApplicationServices.GetRequiredService<LiveRequestCache>();
        var clients = app.ApplicationServices.GetRequiredService<ClientStore>();
        var clock = app.ApplicationServices.GetRequiredService<TimeProvider>();
        var metrics = app.ApplicationServices.GetRequiredService<AuthServerMetrics>();
        var polls = app.ApplicationServices.GetRequiredService<PendingPolls>();
        var limits = app.ApplicationServices.GetRequiredService<RateLimits.RateLimiters>();
        return app.Use(async (context, next) =>
        {
            if (IsCandidate(context.Request) && await TryAnswerAsync(context, cache, clients, polls, limits, clock, metrics)) return;
            await next(context);
        });
    }

    /// <summary>What can be told from the request line and headers alone, before the body is read.</summary>
    private static bool IsCandidate(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && request.Path.Equals(OpenIddictSetup.TokenPath, StringComparison.OrdinalIgnoreCase)
        && request.ContentLength is > 0 and <= MaxBodyLength
        && IsForm(request.ContentType)
        // Client authentication in a header (RFC 6749 §2.3.1), a DPoP proof (RFC 9449) or a browser's cross-origin
        // call: each needs the full pipeline.
        && !request.Headers.ContainsKey(HeaderNames.Authorization)
        && !request.Headers.ContainsKey(DpopProofValidator.Header)
        && !request.Headers.ContainsKey(HeaderNames.Origin);

    private static bool IsForm(string? contentType) =>
        contentType is not null
        && contentType.StartsWith(FormContentType, StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == FormContentType.Length || contentType[FormContentType.Length] is ';' or ' ');

    private static async Task<bool> TryAnswerAsync(HttpContext context, LiveRequestCache cache, ClientStore clients, PendingPolls polls,
        RateLimits.RateLimiters limits, TimeProvider clock, AuthServerMetrics metrics)
    {
        IFormCollection form;
        try
        {
            // The form feature keeps this parse, so a request passed on is not read twice.
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            // OpenIddict meets the same failure and answers it (the exception handler maps it to invalid_request).
            return false;
        }

        // Exactly the three parameters of a public client's poll (RFC 8628 §3.4), each once (RFC 6749 §3.1).
        if (form.Count != 3
            || Single(form, Parameters.GrantType) != Clients.GrantTypes.DeviceCode
            || Single(form, Parameters.ClientId) is not { } clientId
            || Single(form, Parameters.DeviceCode) is not { } deviceCode)
            return false;

        if (clients.Find(clientId) is not { Type: ClientType.Public, Disabled: false, RequireDpop: false } client
            || !client.GrantTypes.Contains(Clients.GrantTypes.DeviceCode))
            return false;

        // Only a request still waiting: finished, approved or unknown ones, another client's, and ones bound to a
        // DPoP key are OpenIddict's and our handlers' to answer.
        var now = clock.GetUtcNow();
        if (cache.Find(OpaqueSecret.Hash(deviceCode)) is not { } live
            || live.State is not { Status: DeviceAuthorizationStatus.Pending or DeviceAuthorizationStatus.Scanned, DpopJkt: null } state
            || state.ClientId != clientId
            || state.IsExpired(now))
            return false;

        // The per-client token limit counts this poll as it counts every token request (RateLimitHandlers): over it,
        // the refusal is the answer.
        if (await RateLimitHandlers.RefuseTokenRequestAsync(limits, metrics, clientId, context, deviceCodePoll: true, context.RequestAborted))
            return true;

        // Recorded where the bookkeeping lives (PendingPolls: memory under the request's lock on SQLite, one statement on
        // PostgreSQL): a poll that races the approval either was pending before it landed or is Moved and goes on to
        // OpenIddict for its tokens.
        var recorded = await polls.RecordIfWaitingAsync(live, now, context.RequestAborted);
        if (recorded == PendingPoll.Moved) return false;
        var tooFast = recorded == PendingPoll.TooFast;
        metrics.Polled(tooFast ? AuthServerMetrics.PollResult.SlowDown : AuthServerMetrics.PollResult.Pending);
        var body = tooFast ? SlowDownBody : PendingBody;

        var response = context.Response;
        response.StatusCode = StatusCodes.Status400BadRequest;
        ProtocolResponse.NoStore(response);
        response.ContentType = "application/json;charset=UTF-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted);
        return true;
    }

    private static string? Single(IFormCollection form, string name) =>
        form.TryGetValue(name, out var values) && values is [{ Length: > 0 } value] ? value : null;

    private static byte[] Body(string error, string description) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            [Parameters.Error] = error,
            [Parameters.ErrorDescription] = description,
        });
}
