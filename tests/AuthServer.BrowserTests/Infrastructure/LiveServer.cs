using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AuthServer.BrowserTests.Infrastructure;

/// <summary>
/// The real server (an <see cref="AuthServerFactory"/>: Development, own SQLite file, fake clock unless opted out) on
/// Kestrel over loopback on a free port, so a real browser can reach it. Usable as a class fixture, or started with
/// <see cref="Start"/> around a factory with other settings.
/// </summary>
public sealed class LiveServer : IDisposable
{
    /// <summary>The default server; the one constructor, so that xunit can build it as a class fixture.</summary>
    public LiveServer() : this(new AuthServerFactory()) { }

    private LiveServer(AuthServerFactory factory)
    {
        Factory = factory;
        Factory.UseKestrel(0);
        Factory.StartServer();
        BaseAddress = new Uri(Origin() + "/");
        // The first page of a fresh server compiles its views and creates the Data Protection key ring (antiforgery
        // tokens); on a busy machine that alone can take most of a test's bounded wait, so it happens here, once.
        using var warmUp = CreateDevice();
        warmUp.GetAsync("/").GetAwaiter().GetResult().EnsureSuccessStatusCode();
    }

    /// <summary>Starts <paramref name="factory"/> (not yet started, e.g. from <see cref="AuthServerFactory.With"/>) on Kestrel.</summary>
    public static LiveServer Start(AuthServerFactory factory) => new(factory);

    public AuthServerFactory Factory { get; }

    public FakeTimeProvider Clock => Factory.Clock;

    /// <summary>The origin Kestrel bound to, with a trailing slash. In Development it is also the issuer.</summary>
    public Uri BaseAddress { get; }

    /// <summary>An absolute URL on this server.</summary>
    public string Url(string relative) => new Uri(BaseAddress, relative).AbsoluteUri;

    /// <summary>A device's HTTP client over the real socket (no cookies kept, as a TV app would not).</summary>
    public HttpClient CreateDevice() => new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
    {
        BaseAddress = BaseAddress,
    };

    private string Origin()
    {
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            ?? addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Kestrel has no http address: {string.Join(", ", addresses)}");
        return address.TrimEnd('/');
    }

    public void Dispose() => Factory.Dispose();
}
