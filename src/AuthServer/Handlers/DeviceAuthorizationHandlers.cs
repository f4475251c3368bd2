using Microsoft.AspNetCore;
using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// Our rules at the device authorization endpoint (RFC 8628 §3.1–3.2). OpenIddict validates the client, its
/// permissions and scopes, and generates the device code and user code; these handlers add what the product needs:
/// the screen's name, the DPoP binding from the start, QR rotation, the login request row, and <c>interval</c>.
/// </summary>
public static class DeviceAuthorizationHandlers
{
    public const string DeviceNameParameter = "device_name";
    public const string DpopJktParameter = "dpop_jkt";
    public const string SupersededParameter = "superseded_device_code";

    private const string FactsProperty = "authserver:device_request";

    /// <summary>What the request said about the screen, checked, for the sign-in that creates the login request.</summary>
    private sealed record Facts(string? DeviceName, string? DpopJkt, DeviceAuthorizationState? Superseded);

    /// <summary>RFC 6749 §3.3: without a <c>scope</c> parameter, the client's registered scopes are the documented default.</summary>
    public sealed class ApplyDefaultScopes(ClientStore clients) : IOpenIddictServerHandler<ExtractDeviceAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractDeviceAuthorizationRequestContext>()
            .UseSingletonHandler<ApplyDefaultScopes>()
            .SetOrder(int.MaxValue - 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ExtractDeviceAuthorizationRequestContext context)
        {
            if (context.Request is { } request && string.IsNullOrWhiteSpace(request.Scope) && clients.Find(request.ClientId) is { } client)
                request.Scope = string.Join(' ', client.Scopes);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Checks <c>device_name</c>, the DPoP proof or <c>dpop_jkt</c> (RFC 9449 §10, applied to the device flow: polling,
    /// the push stream and redemption then need proofs from that key), and <c>superseded_device_code</c>, after
    /// OpenIddict has authenticated the client and checked its permissions.
    /// </summary>
    public sealed class ValidateScreen(ClientStore clients, DpopProofValidator dpop, DeviceFlowService flow)
        : IOpenIddictServerHandler<ValidateDeviceAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateDeviceAuthorizationRequestContext>()
            .UseScopedHandler<ValidateScreen>()
            .SetOrder(OpenIddictServerHandlers.Device.ValidateScopePermissions.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ValidateDeviceAuthorizationRequestContext context)
        {
            var request = context.Request;
            if (!LinkedDevices.TryReadName((string?)request[DeviceNameParameter], out var deviceName))
            {
                context.Reject(Errors.InvalidRequest, LinkedDevices.NameRule);
                return;
            }

            var client = clients.Find(context.ClientId);
            if (!await DpopHandlers.CheckProofAsync(context, client, dpop)) return;
            var proofJkt = DpopHandlers.ProofJkt(context.Transaction);
            var dpopJkt = (string?)request[DpopJktParameter];
            if (dpopJkt is not null && proofJkt is not null && dpopJkt != proofJkt)
            {
                context.Reject(DpopHandlers.Errors.InvalidDpopProof, "dpop_jkt does not match the key of the DPoP proof.");
                return;
            }
            dpopJkt ??= proofJkt;
            if (dpopJkt is not null && !TokenClaims.IsThumbprint(dpopJkt))
            {
                context.Reject(Errors.InvalidRequest, TokenClaims.ThumbprintRule);
                return;
            }

            // QR rotation (our extension): the screen names the request its new one replaces, which then can no
            // longer be approved. It must be this client's own, and a bound request can only be replaced by the screen
            // holding its key: a leaked device code cannot cancel it.
            DeviceAuthorizationState? superseded = null;
            if ((string?)request[SupersededParameter] is { } previous)
            {
                var old = await flow.FindByDeviceCodeAsync(previous, context.CancellationToken);
                if (old is null || old.State.ClientId != context.ClientId)
                {
                    context.Reject(Errors.InvalidGrant, "superseded_device_code is not a device code of this client.");
                    return;
                }
                if (!old.State.AcceptsProofFrom(proofJkt))
                {
                    context.Reject(DpopHandlers.Errors.InvalidDpopProof, "The request to supersede is bound to a DPoP key: send a proof made with it.");
                    return;
                }
                superseded = old.State;
            }
            context.Transaction.Properties[FactsProperty] = new Facts(deviceName, dpopJkt, superseded);
        }
    }

    /// <summary>
    /// Creates the login request once OpenIddict has generated the codes: keyed by the device code's token id, so the
    /// verification endpoint's user-code principal (<c>oi_dvc_id</c>) leads straight to it; and then retires the
    /// request it supersedes.
    /// </summary>
    public sealed class CreateLoginRequest(ClientStore clients, DeviceFlowService flow) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDeviceAuthorizationRequest>()
            .UseScopedHandler<CreateLoginRequest>()
            .SetOrder(OpenIddictServerHandlers.GenerateUserCode.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            var facts = context.Transaction.Properties.TryGetValue(FactsProperty, out var value) ? (Facts)value! : new Facts(null, null, null);
            var client = clients.Find(context.Request.ClientId) ?? throw new InvalidOperationException("The device request's client is not loaded.");
            var id = context.UserCodePrincipal?.GetClaim(Claims.Private.DeviceCodeId);
            if (id is null || context.DeviceCode is null || !UserCode.TryNormalize(context.UserCode, out var userCode))
                throw new InvalidOperationException("OpenIddict did not produce a device code and user code.");

            var http = context.Transaction.GetHttpRequest()!;
            await flow.CreateAsync(new DeviceFlowService.NewRequest(
                id, context.DeviceCode, userCode, client,
                string.Join(' ', context.Principal!.GetScopes()),
                facts.DeviceName,
                http.HttpContext.Connection.RemoteIpAddress?.ToString(),
                LinkedDevices.Truncate(http.Headers.UserAgent.ToString()),
                facts.DpopJkt), context.CancellationToken);

            if (facts.Superseded is { } superseded) await flow.SupersedeAsync(superseded.Id, context.CancellationToken);
        }
    }

    /// <summary>RFC 8628 §3.2: <c>interval</c>, the client's minimum polling interval, which OpenIddict never returns.</summary>
    public sealed class AttachInterval(ClientStore clients) : IOpenIddictServerHandler<ApplyDeviceAuthorizationResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyDeviceAuthorizationResponseContext>()
            .UseSingletonHandler<AttachInterval>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ProcessJsonResponse<ApplyDeviceAuthorizationResponseContext>.Descriptor.Order - 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyDeviceAuthorizationResponseContext context)
        {
            if (context.Response.DeviceCode is not null && clients.Find(context.Request?.ClientId) is { } client)
                context.Response[Parameters.Interval] = (long)client.PollInterval.TotalSeconds;
            return ValueTask.CompletedTask;
        }
    }
}
