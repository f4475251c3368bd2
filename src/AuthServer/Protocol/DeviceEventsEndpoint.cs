using System.Text;
using System.Text.Json;
using AuthServer.DeviceFlow;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http.Features;

namespace AuthServer.Protocol;

/// <summary>
/// <c>POST /connect/device/events</c>: the waiting screen's push stream (our extension to RFC 8628). Same form and
/// client authentication as a token poll; the device code stays in the body, never the URL. Server-Sent Events, one
/// per status change, named after the status, <c>id</c> = the transition count. The first event is always the current
/// status, so a late or reconnecting screen is never stuck (<c>Last-Event-ID</c> only makes sure it is not older than
/// what the screen saw). Tokens never travel here: after <c>approved</c> the screen
/// redeems the device code at the token endpoint, as any RFC 8628 client would. Nor does the account that scanned: in
/// device-code phishing (RFC 8628 §5.4) the attacker owns the waiting screen, and would learn whose phone opened the
/// code before its owner decided anything. The phone shows who is asking; the screen only learns that someone scanned.
/// </summary>
public static class DeviceEventsEndpoint
{
    public const string Path = "/connect/device/events";

    /// <summary>Idle proxies close quiet connections; a comment line every 15 s keeps the stream open.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Answers every POST to the stream at the front of the pipeline, before routing, CORS, authentication and
    /// authorization: a stream is open for minutes, and whatever those leave on the request (the request's service
    /// scope, the cookie and OpenIddict authentication handlers with their transactions, the endpoint's metadata) is
    /// held that long, ten thousand times over (docs/benchmarks.md). The stream needs none of it: it authenticates its
    /// client itself, and applies the endpoint's CORS policy itself. The endpoint stays mapped (see
    /// <see cref="ProtocolEndpoints"/>) so CORS answers its preflight from the endpoint's metadata.
    /// </summary>
    public static IApplicationBuilder UseDeviceEventsStream(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var stream = new Handler(services.GetRequiredService<ClientAuthenticator>(), services.GetRequiredService<IServiceScopeFactory>(),
            services.GetRequiredService<ICorsService>(), services.GetRequiredService<ICorsPolicyProvider>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<Hosting.AuthServerMetrics>());
        return app.Use((context, next) =>
            HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase)
                ? stream.HandleAsync(context)
                : next(context));
    }

    /// <summary>
    /// The mapped endpoint, behind routing and the CORS middleware: reached only where <see cref="UseDeviceEventsStream"/>
    /// is not in the pipeline.
    /// </summary>
    public static Task HandleAsync(HttpContext context, ClientAuthenticator authenticator, IServiceScopeFactory scopes, ICorsService cors,
        ICorsPolicyProvider policies, TimeProvider clock, Hosting.AuthServerMetrics metrics) =>
        new Handler(authenticator, scopes, cors, policies, clock, metrics).StreamAsync(context);

    private sealed class Handler(ClientAuthenticator authenticator, IServiceScopeFactory scopes, ICorsService cors, ICorsPolicyProvider policies,
        TimeProvider clock, Hosting.AuthServerMetrics metrics)
    {
        public async Task HandleAsync(HttpContext context)
        {
            // The CORS middleware's work for an actual (non-preflight) request: an allowed origin may read the answer,
            // errors included, and any other origin gets the answer with no Access-Control-Allow-Origin.
            if (context.Request.Headers.Origin.Count > 0
                && await policies.GetPolicyAsync(context, Clients.ClientCorsPolicyProvider.Policy) is { } policy)
                cors.ApplyResult(cors.EvaluatePolicy(context, policy), context.Response);
            await StreamAsync(context);
        }

        public async Task StreamAsync(HttpContext context) => await (await OpenAsync(context)).ExecuteAsync(context);

        private async Task<IResult> OpenAsync(HttpContext context)
        {
            // A scope of its own, disposed before the stream starts: the stream holds no scoped service.
            LiveRequest? live;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var (request, client, error) = await authenticator.ReadAndAuthenticateAsync(context, scope.ServiceProvider);
                if (error is not null) return error;

                var accept = context.Request.Headers.Accept.ToString();
                if (accept.Length > 0 && !accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) && !accept.Contains("*/*", StringComparison.Ordinal))
                    return new OAuthError("invalid_request", "This endpoint answers with Accept: text/event-stream.", StatusCodes.Status406NotAcceptable);

                if (request!["device_code"] is not { } deviceCode)
                    return OAuthError.InvalidRequest("device_code is required.");
                var flow = scope.ServiceProvider.GetRequiredService<DeviceFlowService>();
                live = await flow.FindByDeviceCodeAsync(deviceCode, context.RequestAborted);
                // As at the token endpoint (RFC 8628 §3.4), another client's code looks unknown.
                if (live is null || live.State.ClientId != client!.ClientId)
                    return OAuthError.InvalidGrant("The device code is not valid.");

                // Proofs cost a signature check: only a bound request is made to pay it.
                if (live.State.DpopJkt is not null)
                {
                    var (dpop, dpopError) = await DpopCheck.CheckAsync(context, client, scope.ServiceProvider.GetRequiredService<Dpop.DpopProofValidator>());
                    if (dpopError is not null) return dpopError;
                    if (!live.State.AcceptsProofFrom(dpop)) return DpopCheck.WrongKey;
                }

                // A reconnecting screen says what it saw last. Should that be newer than this node's snapshot (another
                // node served the earlier stream), read the database first, so the stream never goes backwards.
                if (int.TryParse(context.Request.Headers["Last-Event-ID"], out var lastEventId)
                    && lastEventId > EventFor(live.State, clock.GetUtcNow()).Id)
                    await flow.ReloadAsync(live.State.Id, context.RequestAborted);
            }

            return new EventStream(live, clock, metrics);
        }
    }

    /// <summary>The event for a snapshot: its name, its id and whether the stream ends with it.</summary>
    public static (string Name, int Id, bool Final) EventFor(DeviceAuthorizationState state, DateTimeOffset now) => state.Status switch
    {
        // Expiry is derived, not stored: it counts as one more transition.
        _ when state.IsExpired(now) => ("expired", state.Version + 1, true),
        DeviceAuthorizationStatus.Pending => ("pending", state.Version, false),
        DeviceAuthorizationStatus.Scanned => ("scanned", state.Version, false),
        // Redeemed means it was approved and the tokens are taken; the screen learns "approved", as it did first.
        DeviceAuthorizationStatus.Approved or DeviceAuthorizationStatus.Redeemed => ("approved", state.Version, true),
        DeviceAuthorizationStatus.Denied => ("denied", state.Version, true),
        _ => ("superseded", state.Version, true),
    };

    /// <summary>
    /// Written by hand rather than with <c>TypedResults.ServerSentEvents</c>, which cannot send the comment lines
    /// the keep-alive ping needs. Ten thousand of these stay open at once, so a stream holds no scoped service and reads
    /// nothing from the database: every event comes from the node's snapshot of the request.
    /// </summary>
    private sealed class EventStream(LiveRequest live, TimeProvider clock, Hosting.AuthServerMetrics metrics) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            var cancellationToken = context.RequestAborted;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            int? lastSent = null;
            var pingDue = clock.GetUtcNow() + PingInterval;
            metrics.PushStreamOpened();
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var state = live.State;
                    var now = clock.GetUtcNow();
                    var (name, id, final) = EventFor(state, now);
                    if (id != lastSent)
                    {
                        await WriteEventAsync(response, name, id, name == "scanned" ? state.MatchNumber : null, cancellationToken);
                        lastSent = id;
                        if (final) return;
                    }

                    // Sleep until the status changes, the request expires, or a ping is due, whichever is first. One
                    // WaitAsync carries the timeout and the screen's cancellation: ten thousand streams each hold
                    // one of these waits, so it is one timer and one registration, not a linked token source, a
                    // delay task and a WhenAny. A timeout ends the await without throwing (SuppressThrowing).
                    var wakeAt = state.IsOpen(now) && state.ExpiresAt < pingDue ? state.ExpiresAt : pingDue;
                    var changed = live.WaitForChangeAsync(state.Version, CancellationToken.None);
                    await changed.WaitAsync(wakeAt > now ? wakeAt - now : TimeSpan.Zero, clock, cancellationToken)
                        .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    cancellationToken.ThrowIfCancellationRequested();

                    if (!changed.IsCompletedSuccessfully && clock.GetUtcNow() >= pingDue)
                    {
                        await WriteAsync(response, ": ping\n\n", cancellationToken);
                        pingDue = clock.GetUtcNow() + PingInterval;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The screen went away.
            }
            finally
            {
                metrics.PushStreamClosed();
            }
        }

        private static Task WriteEventAsync(HttpResponse response, string name, int id, int? number, CancellationToken cancellationToken)
        {
            var data = new Dictionary<string, object> { ["status"] = name };
            if (number is not null) data["number"] = number;
            return WriteAsync(response, $"event: {name}\nid: {id}\ndata: {JsonSerializer.Serialize(data)}\n\n", cancellationToken);
        }

        private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
        {
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
    }
}
