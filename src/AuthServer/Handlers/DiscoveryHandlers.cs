using AuthServer.Protocol;
using System.Text.Json;
using AuthServer.Tokens;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Metadata (RFC 8414 §2) for what OpenIddict does not know we do.</summary>
public static class DiscoveryHandlers
{
    public sealed class AttachOurMetadata(DpopProofValidator dpop, Microsoft.Extensions.Options.IOptions<Hosting.TokenOptions> tokens)
        : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
            .UseSingletonHandler<AttachOurMetadata>()
            .SetOrder(OpenIddictServerHandlers.Discovery.AttachAdditionalMetadata.Descriptor.Order + 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            // RFC 8414 §2: the endpoints live under the issuer. OpenIddict builds them from the request's own address,
            // which behind a proxy or under a configured issuer is not the public one.
            if (context.Issuer is { } issuer)
            {
                Uri? Rebase(Uri? endpoint) => endpoint is null ? null : new Uri(issuer, endpoint.PathAndQuery);
                context.AuthorizationEndpoint = Rebase(context.AuthorizationEndpoint);
                context.TokenEndpoint = Rebase(context.TokenEndpoint);
                context.DeviceAuthorizationEndpoint = Rebase(context.DeviceAuthorizationEndpoint);
                context.JsonWebKeySetEndpoint = Rebase(context.JsonWebKeySetEndpoint);
                context.UserInfoEndpoint = Rebase(context.UserInfoEndpoint);
                context.EndSessionEndpoint = Rebase(context.EndSessionEndpoint);
                context.RevocationEndpoint = Rebase(context.RevocationEndpoint);
                context.IntrospectionEndpoint = Rebase(context.IntrospectionEndpoint);
            }

            // The default ID token algorithm first (RS256, OIDC Core §3.1.3.7); a client may be registered for another.
            var algorithms = context.IdTokenSigningAlgorithms.OrderBy(a => a != tokens.Value.IdentityTokenAlgorithm).ToList();
            context.IdTokenSigningAlgorithms.Clear();
            foreach (var algorithm in algorithms) context.IdTokenSigningAlgorithms.Add(algorithm);
            // Public clients authenticate with their client_id alone (RFC 8414 §2 "none").
            context.TokenEndpointAuthenticationMethods.Add(OpenIddict.Abstractions.OpenIddictConstants.ClientAuthenticationMethods.None);
            // RFC 9449 §5.1: the proof algorithms we accept.
            context.Metadata["dpop_signing_alg_values_supported"] = JsonSerializer.SerializeToElement(dpop.AcceptedAlgorithms);
            // Our extension to RFC 8628: the waiting screen's push stream of status changes.
            context.Metadata["device_authorization_events_endpoint"] = new Uri(context.Issuer!, DeviceEventsEndpoint.Path).AbsoluteUri;
            return ValueTask.CompletedTask;
        }
    }
}
