using AuthServer.Hosting;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>What the token endpoint counts (docs/operations.md#telemetry).</summary>
public static class TelemetryHandlers
{
    /// <summary>A token response that carries an access token (RFC 6749 §5.1), by the grant that earned it.</summary>
    public sealed class CountIssuedTokens(AuthServerMetrics metrics) : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<CountIssuedTokens>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ApplyTokenResponseContext context)
        {
            if (context.Response.AccessToken is not null && string.IsNullOrEmpty(context.Response.Error))
                metrics.TokensIssued(context.Request?.GrantType);
            return ValueTask.CompletedTask;
        }
    }
}
