using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthServer.Tests.Telemetry;

/// <summary>
/// Whole flows with every category logging at Trace (OpenIddict's, EF Core's and ASP.NET Core's included: more than
/// any production level), captured by a real logger provider; then not one of the secrets that crossed the server's
/// edge in those flows may appear anywhere in the captured text.
/// </summary>
public sealed class LogSecretsTests
{
    private const string WrongPassword = "Not-The-Password-42";

    private sealed class VerboseFactory(LogCapture capture, SecretHarvester harvester) : AuthServerFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "OpenIddict", "AuthServer" })
                builder.UseSetting($"Logging:LogLevel:{category}", "Trace");
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(capture));
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(harvester));
        }
    }

    [Fact]
    public async Task No_secret_from_device_code_and_pkce_flows_sign_ins_and_phone_approvals_appears_in_trace_level_logs()
    {
        var capture = new LogCapture();
        var harvester = new SecretHarvester();
        using var factory = new VerboseFactory(capture, harvester);
        var tv = factory.CreateClient();

        // The device flow through the page, after a failed and a good password sign-in, then refresh and revocation.
        var browser = factory.CreateBrowser();
        var loginPage = await browser.GetStringAsync("/Identity/Account/Login");
        var wrong = await browser.PostAsync("/Identity/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = AuthServerFactory.DemoEmail,
            ["Input.Password"] = WrongPassword,
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(loginPage),
        }));
        wrong.StatusCode.ShouldBe(HttpStatusCode.OK);
        await browser.SignInAsync();
        var started = await tv.StartAsync();
        await browser.ScanAndDecideAsync(started.Get("user_code"), approve: true);
        var tokens = await tv.PollAsync(started.Get("device_code"));
        tokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {tokens.Json}");
        var refreshed = await tv.RefreshAsync(tokens.Get("refresh_token"));
        refreshed.Status.ShouldBe(HttpStatusCode.OK);
        (await tv.PostFormAsync("/connect/revoke", ("token", refreshed.Get("refresh_token")), ("client_id", "demo-tv")))
            .Status.ShouldBe(HttpStatusCode.OK);
        (await tv.RefreshAsync(refreshed.Get("refresh_token"))).Error.ShouldBe("invalid_grant");

        // The phone app: code + PKCE through the sign-in page, then a scan and an approval with its confirm ticket.
        var phone = await PhoneApp.SignInAsync(factory);
        var second = await tv.StartAsync();
        await phone.ScanAndApproveAsync(second.Get("user_code"));
        var secondTokens = await tv.PollAsync(second.Get("device_code"));
        secondTokens.Status.ShouldBe(HttpStatusCode.OK);
        (await PhoneApp.SendAsync(tv, HttpMethod.Get, "/connect/userinfo", secondTokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.OK);

        // A confidential web app (client secret, consent), a confidential screen and a service client.
        (await CodeFlow.WebAppTokensAsync(factory, browser, "openid profile offline_access api")).Get("access_token").ShouldNotBeNullOrEmpty();
        var confidential = await tv.PostFormAsync("/connect/device", ("client_id", AuthServerFactory.SecretClientId),
            ("client_secret", AuthServerFactory.SecretClientSecret), ("scope", "openid api"));
        confidential.Status.ShouldBe(HttpStatusCode.OK);
        (await tv.PostFormAsync("/connect/token", ("grant_type", Infrastructure.Protocol.DeviceGrant), ("device_code", confidential.Get("device_code")),
            ("client_id", AuthServerFactory.SecretClientId), ("client_secret", AuthServerFactory.SecretClientSecret))).Error.ShouldBe("authorization_pending");
        (await tv.ClientCredentialsAsync(AuthServerFactory.ServiceClientId, AuthServerFactory.ServiceClientSecret)).Status.ShouldBe(HttpStatusCode.OK);

        // A DPoP-bound device login and a DPoP call (RFC 9449).
        using var key = DpopKey.Ec(factory.Clock);
        var bound = await key.StartAsync(tv);
        bound.Status.ShouldBe(HttpStatusCode.OK);
        await browser.ScanAndDecideAsync(bound.Get("user_code"), approve: true);
        var boundTokens = await key.PollAsync(tv, bound.Get("device_code"));
        boundTokens.Status.ShouldBe(HttpStatusCode.OK, $"body: {boundTokens.Json}");
        (await key.CallAsync(tv, HttpMethod.Get, "/connect/userinfo", boundTokens.Get("access_token"))).Status.ShouldBe(HttpStatusCode.OK);

        // The flows really ran with every kind of secret, and the capture really heard the chatty categories.
        new[]
        {
            "device_code", "access_token", "refresh_token", "id_token", "code", "code_verifier", "client_secret", "Input.Password",
            "confirm_ticket", "set-cookie", "authorization header", "DPoP header", "__RequestVerificationToken",
        }.ShouldBeSubsetOf(harvester.Kinds);
        capture.Lines.ShouldContain(l => l.Category.StartsWith("OpenIddict.", StringComparison.Ordinal) && l.Level <= LogLevel.Debug);
        capture.Lines.ShouldContain(l => l.Category.StartsWith("Microsoft.EntityFrameworkCore.", StringComparison.Ordinal) && l.Level <= LogLevel.Debug);
        capture.Lines.ShouldContain(l => l.Category.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal) && l.Level <= LogLevel.Debug);

        var secrets = harvester.Secrets.ToDictionary(p => p.Key, p => p.Value);
        foreach (var (known, kind) in new[]
        {
            (AuthServerFactory.DemoPassword, "password"), (WrongPassword, "password"), (AuthServerFactory.SecretClientSecret, "client secret"),
            (AuthServerFactory.ServiceClientSecret, "client secret"), (AuthServerFactory.WebAppSecret, "client secret"),
        })
            secrets.TryAdd(known, kind);
        // A JWT's signature is its own: a log that printed a token cut at its header would still show it.
        foreach (var (secret, kind) in secrets.ToList())
            if (secret.Split('.') is { Length: 3 } parts && parts[2].Length >= 16) secrets.TryAdd(parts[2], kind + " (signature)");

        var leaks = (from secret in secrets
                     from line in capture.Lines
                     where line.Text.Contains(secret.Key, StringComparison.Ordinal)
                     let masked = line.Text.Replace(secret.Key, "[SECRET]", StringComparison.Ordinal)
                     select $"{secret.Value} in {line.Category} at {line.Level}: {masked[..Math.Min(400, masked.Length)]}")
            .Distinct().ToList();
        leaks.ShouldBeEmpty($"{leaks.Count} secret(s) logged:\n{string.Join("\n", leaks.Take(40))}");
    }
}
