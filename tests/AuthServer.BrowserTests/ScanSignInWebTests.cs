using System.Net;
using System.Net.Sockets;
using AuthServer.BrowserTests.Infrastructure;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AuthServer.BrowserTests;

/// <summary>
/// The third-party sample web app (samples/ScanSignInWeb: ASP.NET Core's stock OpenID Connect handler, code + PKCE)
/// signs its user in by a scan: its sign-in button leads to AuthServer's sign-in page, the phone approves the QR code
/// there, and the app's own callback receives the code. The sample runs on a loopback port beside the server, whose
/// configuration registers it as a confidential third-party client.
/// </summary>
public sealed class ScanSignInWebTests(BrowserFixture browser, ScanSignInWebTests.Servers servers)
    : QrPageTest(browser, servers.Live), IClassFixture<ScanSignInWebTests.Servers>
{
    public sealed class Servers : IDisposable
    {
        public const string ClientId = "example-shop";
        public const string ClientSecret = "example-shop-secret-with-enough-entropy-0123456789";

        public Servers()
        {
            SampleOrigin = $"http://127.0.0.1:{FreeLoopbackPort()}";
            Live = LiveServer.Start(AuthServerFactory.With(new()
            {
                [$"Clients:{ClientId}:DisplayName"] = "Example Shop",
                [$"Clients:{ClientId}:Type"] = "Confidential",
                [$"Clients:{ClientId}:Secrets:0"] = ClientSecret,
                [$"Clients:{ClientId}:GrantTypes:0"] = "authorization_code",
                [$"Clients:{ClientId}:Scopes:0"] = "openid",
                [$"Clients:{ClientId}:Scopes:1"] = "profile",
                [$"Clients:{ClientId}:Scopes:2"] = "email",
                [$"Clients:{ClientId}:RedirectUris:0"] = SampleOrigin + "/signin-oidc",
                [$"Clients:{ClientId}:PostLogoutRedirectUris:0"] = SampleOrigin + "/signout-callback-oidc",
            }));
            Sample = new SampleApp(Live.BaseAddress, new Uri(SampleOrigin).Port);
            Sample.StartServer();
        }

        public LiveServer Live { get; }
        public SampleApp Sample { get; }
        public string SampleOrigin { get; }

        public void Dispose()
        {
            Sample.Dispose();
            Live.Dispose();
        }

        /// <summary>A port nobody listens on now; the sample binds it right after, so the client can be registered first.</summary>
        private static int FreeLoopbackPort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }

    /// <summary>The sample as it runs, on Kestrel, configured only through its own settings.</summary>
    public sealed class SampleApp(Uri authority, int port) : WebApplicationFactory<ScanSignInWeb.SignInSettings>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment(Environments.Production);
            builder.UseSetting("OpenIdConnect:Authority", authority.AbsoluteUri);
            builder.UseSetting("OpenIdConnect:ClientId", Servers.ClientId);
            builder.UseSetting("OpenIdConnect:ClientSecret", Servers.ClientSecret);
            // The server under test listens on plain http over loopback.
            builder.UseSetting("OpenIdConnect:RequireHttpsMetadata", "false");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            UseKestrel(port);
        }
    }

    [Fact]
    public Task The_sample_web_app_signs_its_user_in_by_a_scan_and_out_again() => InBrowserAsync(async page =>
    {
        var sample = servers.SampleOrigin;
        await page.GotoAsync(sample + "/");
        await Expect(page.GetByTestId("greeting")).ToHaveTextAsync("You are not signed in.");

        // The app's sign-in link: its OpenID Connect handler sends the browser to AuthServer, which asks for a sign-in.
        await OpenAsync(page, path: sample + "/signin");
        page.Url.ShouldStartWith(Server.Url("/Identity/Account/Login?ReturnUrl="));
        using var phone = await Phone.SignInAsync(Server);
        await phone.ApproveAsync(await phone.ScanAsync(await DecodeQrAsync(page)));

        // Signed in at AuthServer by the scan; the third-party app asks for consent once, then has its code.
        var allow = page.GetByRole(AriaRole.Button, new() { Name = "Allow" });
        await Expect(allow).ToBeVisibleAsync();
        await Expect(page.Locator("main")).ToContainTextAsync("Example Shop");
        await allow.ClickAsync();
        await Expect(page.GetByTestId("greeting")).ToHaveTextAsync("Hello, Demo User");
        await Expect(page.GetByTestId("email")).ToHaveTextAsync(AuthServerFactory.DemoEmail);
        page.Url.ShouldBe(sample + "/");

        // Its sign-out button signs out there and, by RP-initiated logout with its ID token, at AuthServer too.
        await page.GetByTestId("sign-out").ClickAsync();
        await Expect(page.GetByTestId("greeting")).ToHaveTextAsync("You are not signed in.");
        page.Url.ShouldBe(sample + "/");
        await page.GotoAsync(Server.Url("/account/devices"));
        page.Url.ShouldStartWith(Server.Url("/Identity/Account/Login"));
    });
}
