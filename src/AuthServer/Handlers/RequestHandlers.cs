using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Rules for every protocol request, once OpenIddict has read it.</summary>
public static class RequestHandlers
{
    /// <summary>
    /// RFC 6749 §3.1 (and §3.2 for the token endpoint): "request and response parameters MUST NOT be included more
    /// than once." OpenIddict reads a repeated parameter as absent, which would turn <c>scope=a&amp;scope=b</c> into no
    /// scope at all, and so into the client's registered default. Refused as <c>invalid_request</c> instead.
    /// </summary>
    public sealed class RejectRepeatedParameters<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RejectRepeatedParameters<TContext>>()
            // After OpenIddict's extraction, before our defaults (ApplyDefaultScopes) read the request.
            .SetOrder(int.MaxValue - 200_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(TContext context)
        {
            if (context.Transaction.Request is not { } request) return ValueTask.CompletedTask;
            foreach (var (name, parameter) in request.GetParameters())
            {
                if (parameter.GetUnnamedParameters().Count > 1)
                {
                    context.Reject(Errors.InvalidRequest, $"The '{name}' parameter must not be sent more than once (RFC 6749 §3.1).");
                    break;
                }
            }
            return ValueTask.CompletedTask;
        }
    }

    public static void Register(OpenIddictServerBuilder server)
    {
        server.AddEventHandler(RejectRepeatedParameters<ExtractAuthorizationRequestContext>.Descriptor);
        server.AddEventHandler(RejectRepeatedParameters<ExtractDeviceAuthorizationRequestContext>.Descriptor);
        server.AddEventHandler(RejectRepeatedParameters<ExtractTokenRequestContext>.Descriptor);
        server.AddEventHandler(RejectRepeatedParameters<ExtractRevocationRequestContext>.Descriptor);
        server.AddEventHandler(RejectRepeatedParameters<ExtractIntrospectionRequestContext>.Descriptor);
        server.AddEventHandler(RejectRepeatedParameters<ExtractEndSessionRequestContext>.Descriptor);
        server.AddEventHandler(RejectRepeatedParameters<ExtractEndUserVerificationRequestContext>.Descriptor);
    }
}
