using Microsoft.AspNetCore;
using System.Security.Claims;
using System.Text.Json.Nodes;
using AuthServer.Clients;
using AuthServer.Data.Entities;
using AuthServer.Hosting;
using AuthServer.Tokens;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>
/// What we add when OpenIddict issues tokens: the linked device each grant belongs to, the DPoP binding, the client's
/// refresh-token family limit, and the keys that sign.
/// </summary>
public static class SignInHandlers
{
    /// <summary>
    /// Replaces OpenIddict's ad-hoc authorization with a <b>linked device</b>: one authorization per signed-in device,
    /// created when the user signs in (authorization endpoint) or approves a waiting screen (verification endpoint),
    /// never when a QR code is merely shown, so every authorization led to a login. Its id becomes the tokens'
    /// <c>device_id</c>. A grant that already belongs to a device (a code, device code or refresh token) keeps it.
    /// </summary>
    public sealed class AttachLinkedDevice(IOpenIddictApplicationManager applications, IOpenIddictAuthorizationManager authorizations, TimeProvider clock)
        : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireAuthorizationStorageEnabled>()
            .UseScopedHandler<AttachLinkedDevice>()
            .SetOrder(OpenIddictServerHandlers.AttachAuthorization.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            var principal = context.Principal!;
            if (context.EndpointType is OpenIddictServerEndpointType.DeviceAuthorization) return;
            if (principal.GetAuthorizationId() is null
                && (context.GenerateAuthorizationCode || context.GenerateDeviceCode || context.GenerateRefreshToken))
            {
                var http = context.Transaction.GetHttpRequest()!.HttpContext;
                var device = LinkedDeviceInfo.Of(http);
                // At the verification endpoint the device is the waiting screen, whose client is not the caller.
                var clientId = device.ClientId ?? context.Request.ClientId
                    ?? throw new InvalidOperationException("The sign-in names no client.");
                var client = await applications.FindByClientIdAsync(clientId, context.CancellationToken)
                    ?? throw new InvalidOperationException("The sign-in's client is not registered.");
                var descriptor = new OpenIddictAuthorizationDescriptor
                {
                    ApplicationId = await applications.GetIdAsync(client, context.CancellationToken),
                    CreationDate = clock.GetUtcNow(),
                    Principal = principal,
                    Status = Statuses.Valid,
                    Subject = principal.GetClaim(Claims.Subject),
                    Type = AuthorizationTypes.AdHoc,
                };
                descriptor.Scopes.UnionWith(principal.GetScopes());
                var authorization = new Authorization
                {
                    DeviceName = device.Name ?? await applications.GetDisplayNameAsync(client, context.CancellationToken),
                    LastUsedAt = clock.GetUtcNow(),
                    LastIp = device.Ip,
                    UserAgent = device.UserAgent,
                };
                await authorizations.PopulateAsync(authorization, descriptor, context.CancellationToken);
                await authorizations.CreateAsync(authorization, context.CancellationToken);
                principal.SetAuthorizationId(authorization.Id);
            }

            if (principal.GetAuthorizationId() is { } id)
            {
                // Every token names the device it was issued to, so a resource can tell devices apart and a logout
                // can end exactly one of them.
                principal.SetClaim(TokenClaims.DeviceId, id);
                principal.FindFirst(TokenClaims.DeviceId)!.SetDestinations(Destinations.AccessToken, Destinations.IdentityToken);
            }
        }
    }

    /// <summary>
    /// RFC 9449 §6.1: an access token issued with a proof names the proof's key (<c>cnf.jkt</c>) and works only with
    /// proofs from it. §5: a public client's refresh token is bound to the key too (a confidential client's is
    /// already bound to its authentication), in a private claim that only our token endpoint reads.
    /// </summary>
    public sealed class BindToDpopKey(ClientStore clients) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
            .UseSingletonHandler<BindToDpopKey>()
            .SetOrder(OpenIddictServerHandlers.PrepareRefreshTokenPrincipal.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (DpopHandlers.ProofJkt(context.Transaction) is not { } jkt) return ValueTask.CompletedTask;
            context.AccessTokenPrincipal?.SetClaim(TokenClaims.Confirmation, new JsonObject { ["jkt"] = jkt });
            if (clients.Find(context.Request.ClientId)?.Type == ClientType.Public)
                context.RefreshTokenPrincipal?.SetClaim(TokenClaims.RefreshTokenJkt, jkt);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// RFC 9700 §4.14.2: refresh tokens expire after the client's idle lifetime (OpenIddict's sliding lifetime, from the
    /// client's settings), and the whole family ends its absolute lifetime after the first sign-in, however often it
    /// is used. The family's end rides in the refresh token.
    /// </summary>
    public sealed class LimitRefreshTokenFamily(ClientStore clients, TimeProvider clock) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<LimitRefreshTokenFamily>()
            .SetOrder(OpenIddictServerHandlers.PrepareRefreshTokenPrincipal.Descriptor.Order + 200)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.RefreshTokenPrincipal is not { } refresh || clients.Find(context.Request.ClientId) is not { } client)
                return ValueTask.CompletedTask;
            var now = clock.GetUtcNow();
            var familyEnd = refresh.GetClaim(TokenClaims.FamilyExpiresAt) is { } stored && long.TryParse(stored, out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : now + client.RefreshTokenAbsoluteLifetime;
            refresh.SetClaim(TokenClaims.FamilyExpiresAt, familyEnd.ToUnixTimeSeconds());
            // OpenIddict has dated the token by the idle lifetime; the family's end may come first.
            if (refresh.GetExpirationDate() is not { } idleEnd || familyEnd < idleEnd) refresh.SetExpirationDate(familyEnd);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// A refresh grant answers without a new ID token (OIDC Core §12.2: the response "might not contain an id_token").
    /// An ID token asserts that the user authenticated; a refresh is no new authentication, and the client already has
    /// the one from its login. Leaving it out saves an RS256 signature, most of a grant's cryptography
    /// (docs/benchmarks.md). <c>Tokens:IdentityTokenOnRefresh</c> turns it back on for clients that want one.
    /// </summary>
    public sealed class NoIdentityTokenOnRefresh(IOptions<TokenOptions> options) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<NoIdentityTokenOnRefresh>()
            .SetOrder(OpenIddictServerHandlers.EvaluateGeneratedTokens.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (!options.Value.IdentityTokenOnRefresh && context.EndpointType is OpenIddictServerEndpointType.Token
                && context.Request.IsRefreshTokenGrantType())
            {
                context.GenerateIdentityToken = false;
                context.IncludeIdentityToken = false;
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Access tokens are signed with the current key of <c>Tokens:AccessTokenAlgorithm</c>; ID tokens with the client's
    /// own algorithm (<c>id_token_signed_response_alg</c>, OIDC Dynamic Client Registration §2) or the default.
    /// </summary>
    public sealed class SignWithCurrentKeys(SigningKeyStore keys, ClientStore clients, IOptions<TokenOptions> options)
        : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<SignWithCurrentKeys>()
            .SetOrder(OpenIddictServerHandlers.Protection.AttachSecurityCredentials.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (context.TokenType == TokenTypeIdentifiers.AccessToken)
                context.SigningCredentials = keys.GetSigningCredentials(options.Value.AccessTokenAlgorithm);
            else if (context.TokenType == TokenTypeIdentifiers.IdentityToken)
                context.SigningCredentials = keys.GetSigningCredentials(
                    clients.Find(context.ClientId)?.IdTokenSignedResponseAlg ?? options.Value.IdentityTokenAlgorithm);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Who the device of a new linked device is, as the endpoint that signs it in knows it.</summary>
public sealed record LinkedDeviceInfo(string? Name, string? Ip, string? UserAgent, string? ClientId = null)
{
    private const string ItemKey = "authserver:linked_device";

    /// <summary>Set by the endpoint that signs in a device other than the caller (the verification endpoint).</summary>
    public void AttachTo(HttpContext context) => context.Items[ItemKey] = this;

    /// <summary>The device of this sign-in: what the endpoint attached, or the caller itself.</summary>
    public static LinkedDeviceInfo Of(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var value) && value is LinkedDeviceInfo info
            ? info
            : new LinkedDeviceInfo(null, context.Connection.RemoteIpAddress?.ToString(), LinkedDevices.Truncate(context.Request.Headers.UserAgent.ToString()));
}
