using System.Collections.Frozen;
using Microsoft.AspNetCore;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Handlers;

/// <summary>Which of OpenIddict's endpoints a request is for: asked of every request the server receives.</summary>
public static class EndpointHandlers
{
    /// <summary>
    /// OpenIddict's own <see cref="OpenIddictServerHandlers.InferEndpointType"/> builds an absolute URI for each of the
    /// endpoints' URIs and compares it with the request's, for every request, pages and health checks included: about a
    /// tenth of the server's CPU on a pending poll (docs/benchmarks.md). OpenIddict documents replacing that handler as
    /// the way to change the comparison; this one keeps its rule (a path matches ignoring case and one trailing slash)
    /// and answers from a table of the configured relative paths, built once per options instance. Options with an
    /// absolute endpoint URI (another host or scheme) still go through OpenIddict's handler.
    /// </summary>
    public sealed class InferEndpointTypeFromPath(ILogger<InferEndpointTypeFromPath> logger) : IOpenIddictServerHandler<ProcessRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<InferEndpointTypeFromPath>()
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        private sealed record Table(OpenIddictServerOptions Options, FrozenDictionary<string, OpenIddictServerEndpointType>? Paths);

        private readonly OpenIddictServerHandlers.InferEndpointType _general = new();
        private Table? _table;

        public ValueTask HandleAsync(ProcessRequestContext context)
        {
            var table = _table;
            if (table is null || !ReferenceEquals(table.Options, context.Options)) _table = table = Build(context.Options);
            if (table.Paths is null || context.Transaction.GetHttpRequest() is not { } request) return _general.HandleAsync(context);

            var lookup = table.Paths.GetAlternateLookup<ReadOnlySpan<char>>();
            var path = request.Path.HasValue ? request.Path.Value.AsSpan() : "/";
            context.EndpointType =
                lookup.TryGetValue(path, out var type) ? type
                : path.Length > 1 && path[^1] == '/' && lookup.TryGetValue(path[..^1], out type) ? type
                : OpenIddictServerEndpointType.Unknown;
            if (context.EndpointType is not OpenIddictServerEndpointType.Unknown && logger.IsEnabled(LogLevel.Debug))
                logger.LogDebug("The request was identified as a {EndpointType} request.", context.EndpointType);
            return ValueTask.CompletedTask;
        }

        /// <summary>
        /// The table of paths, relative to the request's path base as OpenIddict resolves relative endpoint URIs. When
        /// two endpoints share a path the first in OpenIddict's order wins, as in its handler.
        /// </summary>
        private static Table Build(OpenIddictServerOptions options)
        {
            var paths = new Dictionary<string, OpenIddictServerEndpointType>(StringComparer.OrdinalIgnoreCase);
            (IEnumerable<Uri> Uris, OpenIddictServerEndpointType Type)[] endpoints =
            [
                (options.AuthorizationEndpointUris, OpenIddictServerEndpointType.Authorization),
                (options.ConfigurationEndpointUris, OpenIddictServerEndpointType.Configuration),
                (options.DeviceAuthorizationEndpointUris, OpenIddictServerEndpointType.DeviceAuthorization),
                (options.EndSessionEndpointUris, OpenIddictServerEndpointType.EndSession),
                (options.EndUserVerificationEndpointUris, OpenIddictServerEndpointType.EndUserVerification),
                (options.IntrospectionEndpointUris, OpenIddictServerEndpointType.Introspection),
                (options.JsonWebKeySetEndpointUris, OpenIddictServerEndpointType.JsonWebKeySet),
                (options.RevocationEndpointUris, OpenIddictServerEndpointType.Revocation),
                (options.TokenEndpointUris, OpenIddictServerEndpointType.Token),
                (options.UserInfoEndpointUris, OpenIddictServerEndpointType.UserInfo),
            ];
            foreach (var (uris, type) in endpoints)
            {
                foreach (var uri in uris)
                {
                    // Absolute URIs, and relative ones that a URI parser would rewrite (dot segments, escapes, a query),
                    // need OpenIddict's comparison.
                    var text = uri.OriginalString;
                    if (uri.IsAbsoluteUri || text.Contains("./", StringComparison.Ordinal) || text.IndexOfAny(['%', '?', '#', '\\']) >= 0)
                        return new Table(options, null);
                    paths.TryAdd("/" + text.Trim('/'), type);
                }
            }
            return new Table(options, paths.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
        }
    }
}
