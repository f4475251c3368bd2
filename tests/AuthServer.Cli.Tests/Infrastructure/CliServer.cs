using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Cli.Tests.Infrastructure;

/// <summary>
/// The real server (Development, its own SQLite file) on Kestrel over loopback, for the CLI, a separate process that
/// lives in real time; so the server keeps the system clock too. The <c>cli</c> client polls every second here.
/// </summary>
public class CliServer : IDisposable
{
    public CliServer() : this([]) { }

    protected CliServer(Dictionary<string, string?> settings)
    {
        settings.TryAdd("Clients:cli:PollInterval", "00:00:01");
        Factory = AuthServerFactory.With(settings);
        Factory.UseSystemClock = true;
        Factory.UseKestrel(0);
        Factory.StartServer();
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Origin = (addresses.FirstOrDefault(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            ?? addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal))).TrimEnd('/');
    }

    public static CliServer With(Dictionary<string, string?> settings) => new(settings);

    public AuthServerFactory Factory { get; }

    /// <summary>The origin, e.g. <c>http://127.0.0.1:41234</c>; with a trailing slash it is the issuer.</summary>
    public string Origin { get; }

    public string Issuer => Origin + "/";

    /// <summary>A browser on the real socket, keeping cookies, not following redirects: the phone's browser.</summary>
    public HttpClient CreateBrowser() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(Issuer),
        };

    public void Dispose()
    {
        Factory.Dispose();
        GC.SuppressFinalize(this);
    }
}
