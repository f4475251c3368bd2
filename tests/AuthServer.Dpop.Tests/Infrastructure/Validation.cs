using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AuthServer.Dpop.Tests.Infrastructure;

/// <summary>
/// A <see cref="DpopProofValidator"/> registered the way hosts register it, on a fake clock, and the requests it judges.
/// </summary>
public sealed class Validation : IDisposable
{
    public const string Origin = "https://api.example.com";

    private readonly ServiceProvider _services;

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    public DpopProofValidator Validator { get; }
    public DateTimeOffset Now => Clock.GetUtcNow();

    public Validation(Action<DpopOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(Clock);
        services?.Invoke(collection);
        collection.AddDpopProofValidation().Configure(options =>
        {
            // Resource-server defaults unless a test asks for nonces.
            options.RequireNonce = false;
            configure?.Invoke(options);
        });
        _services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Validator = _services.GetRequiredService<DpopProofValidator>();
    }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>A request for <paramref name="target"/> (path and query, on <see cref="Origin"/>) with these DPoP headers.</summary>
    public static HttpRequest Request(string method, string target, params string[] proofs)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = method;
        request.Scheme = "https";
        request.Host = new HostString("api.example.com");
        var query = target.IndexOf('?');
        request.Path = query < 0 ? target : target[..query];
        if (query >= 0) request.QueryString = new QueryString(target[query..]);
        if (proofs.Length > 0) request.Headers[DpopProofValidator.Header] = proofs;
        return request;
    }

    public Task<DpopProofValidator.Result> ValidateAsync(string method, string target, string proof, string? accessToken = null, string? boundJkt = null) =>
        Validator.ValidateAsync(Request(method, target, proof), accessToken, boundJkt);

    public void Dispose() => _services.Dispose();
}
