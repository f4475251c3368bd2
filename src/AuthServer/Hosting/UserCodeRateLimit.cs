using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace AuthServer.Hosting;

/// <summary>
/// RFC 8628 §5.1: user codes have about 34.5 bits of entropy, which is only enough when guesses are limited. Every
/// place that looks a user code up (the verification page, the QR endpoint) shares one budget per client IP, and
/// unknown codes count like any other. Over budget, the answer is 429 with <c>Retry-After</c>.
/// Per-account limits for the phone API come with it.
/// </summary>
public static class UserCodeRateLimit
{
    public const string Policy = "user-code";
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddUserCodeRateLimit(this IServiceCollection services)
    {
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(Policy, context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<AuthServerOptions>>().Value.UserCodeLookupsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = Window, QueueLimit = 0 });
            });
            options.OnRejected = async (rejected, cancellationToken) =>
            {
                var response = rejected.HttpContext.Response;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(
                        statusCode: StatusCodes.Status429TooManyRequests,
                        title: "Too many attempts",
                        detail: "Too many codes were tried from this address. Wait a minute, then try again.")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
        return services;
    }
}
