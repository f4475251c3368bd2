using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace AuthServer.Tests.Hardening;

/// <summary>
/// Malformed requests to every endpoint and method the server has (<see cref="FuzzTargets"/>), anonymous and signed in
/// (an admin's and a user's session, a phone's bearer token), seeded and reproducible (<see cref="FuzzRequests"/>):
/// none may answer 5xx, and every answer must be in its door's format (<see cref="FuzzCheck"/>). The seed is
/// <see cref="SeedVariable"/> (a number, or <c>random</c> for a new one, printed), the number of requests
/// <see cref="CountVariable"/>; a failure names the seed and each failing request's index, so running the seed again
/// sends the very same requests.
/// </summary>
public abstract class FuzzTests(ITestOutputHelper output)
{
    public const string SeedVariable = "AUTHSERVER_FUZZ_SEED";
    public const string CountVariable = "AUTHSERVER_FUZZ_REQUESTS";
    public const int DefaultSeed = 8628;

    public sealed class OnSqlite(ITestOutputHelper output) : FuzzTests(output)
    {
        [Fact]
        public Task Ten_thousand_malformed_requests_to_every_endpoint_get_no_5xx_and_every_error_in_its_doors_format() =>
            RunAsync(DatabaseProvider.Sqlite, defaultCount: 10_000);
    }

    public sealed class OnPostgreSql(ITestOutputHelper output) : FuzzTests(output)
    {
        [Fact]
        public Task Fifteen_hundred_malformed_requests_to_every_endpoint_get_no_5xx_and_every_error_in_its_doors_format() =>
            RunAsync(DatabaseProvider.PostgreSql, defaultCount: 1_500);
    }

    private const int Parallelism = 8;

    private sealed class FuzzServer(DatabaseProvider provider, LogCapture logs) : AuthServerFactory(provider)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging => logging.ClearProviders().AddProvider(logs));
        }
    }

    private async Task RunAsync(DatabaseProvider provider, int defaultCount)
    {
        var seed = Seed();
        var count = int.TryParse(Environment.GetEnvironmentVariable(CountVariable), out var given) && given > 0 ? given : defaultCount;
        var logs = new LogCapture();
        using var factory = new FuzzServer(provider, logs);
        var targets = await FuzzTargets.AllAsync(factory);
        var material = await PrepareAsync(factory, targets);
        var requests = new FuzzRequests(targets, material);
        using var http = factory.CreateDefaultClient(factory.ClientOptions.BaseAddress);
        http.Timeout = Timeout.InfiniteTimeSpan;

        var failures = new ConcurrentQueue<(FuzzRequest Request, string Problem)>();
        var statuses = new ConcurrentDictionary<int, int>();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (index, _) =>
        {
            var request = requests.Create(seed, index);
            using var message = request.ToMessage();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                // A push stream stays open while its login request is open; its headers are the answer.
                var body = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
                    ? [] : await response.Content.ReadAsByteArrayAsync(deadline.Token);
                if (FuzzCheck.Problem(request, (int)response.StatusCode, response.Headers, response.Content.Headers.ContentType, body) is { } problem)
                    failures.Enqueue((request, problem));
            }
            catch (Exception error) when (error is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
            {
                failures.Enqueue((request, $"no answer ({error.GetType().Name}: {error.Message})"));
            }
        });
        watch.Stop();

        output.WriteLine($"{count} requests to {targets.Count} targets in {watch.Elapsed.TotalSeconds:F1} s, seed {seed} ({SeedVariable}), " +
            $"statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
        if (failures.IsEmpty) return;
        throw new ShouldAssertException(Report(seed, count, failures, logs));
    }

    private static int Seed()
    {
        var text = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.Equals(text, "random", StringComparison.OrdinalIgnoreCase)) return Random.Shared.Next();
        return int.TryParse(text, out var seed) ? seed : DefaultSeed;
    }

    /// <summary>Failures grouped by what went wrong where, one request each in full, with what the server logged for it.</summary>
    private static string Report(int seed, int count, IEnumerable<(FuzzRequest Request, string Problem)> failures, LogCapture logs)
    {
        var all = failures.OrderBy(f => f.Request.Index).ToList();
        var text = new StringBuilder()
            .AppendLine($"{all.Count} of {count} fuzzed requests were answered wrongly. Seed {seed}: rerun with {SeedVariable}={seed} " +
                $"{CountVariable}={all[^1].Request.Index + 1} to send the same requests.");
        var lines = logs.Lines.Where(l => l.Level >= LogLevel.Error).ToList();
        foreach (var group in all.GroupBy(f => $"{Regex.Replace(f.Problem, @"\(.*", "")} on {f.Request.Target}").Take(25))
        {
            var (request, problem) = group.First();
            text.AppendLine().AppendLine($"== {group.Count()}× {group.Key}").AppendLine(problem).AppendLine(request.ToString());
            var mark = new Regex($@"fuzz-{request.Index}(?!\d)");
            foreach (var line in lines.Where(l => mark.IsMatch(l.Text)).Take(2))
                text.AppendLine("    logged: " + (line.Text.Length > 3000 ? line.Text[..3000] + "…" : line.Text));
        }
        return text.ToString();
    }

    /// <summary>
    /// The sessions and tokens the requests are sent with, and real values for them to carry: a pending login request
    /// and one scanned by the phone, a refresh token, ids of an account, a linked device and a client, and every
    /// page's form fields as each identity sees them.
    /// </summary>
    private static async Task<FuzzMaterial> PrepareAsync(AuthServerFactory factory, IReadOnlyList<FuzzTarget> targets)
    {
        var victim = await PhoneApp.NewAccountAsync(factory, "fuzz-victim");
        var user = await PhoneApp.NewAccountAsync(factory, "fuzz-user");
        var identities = new List<FuzzIdentity>
        {
            new("anonymous", null, null, null),
            await SessionAsync(factory, "anonymous with antiforgery", null, "/Identity/Account/Login"),
            await SessionAsync(factory, "user", user, "/device"),
            await SessionAsync(factory, "admin", (AuthServerFactory.AdminEmail, AuthServerFactory.AdminPassword), "/admin/clients/new"),
        };
        var phone = await PhoneApp.SignInNewAccountAsync(factory);
        identities.Add(new FuzzIdentity("phone", null, phone.AccessToken, null));

        var device = factory.CreateClient();
        var pending = await device.StartAsync();
        var scanned = await device.StartAsync();
        var scan = await phone.ScanOkAsync(scanned.Get("user_code"));
        var signedIn = await factory.SignInDeviceAsync();
        string victimId;
        await using (var scope = factory.Services.CreateAsyncScope())
            victimId = (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByEmailAsync(victim.Email))!.Id;

        string[] routeValues = [victimId, phone.DeviceId, scan.ScanId, "demo-tv", "test-webapp", "phone", "no-such-thing"];
        var values = new List<string>
        {
            "demo-tv", "phone", "phone-web", "web", "test-confidential", "test-service", "test-webapp", "no-such-client",
            AuthServerFactory.SecretClientSecret, Infrastructure.Protocol.DeviceGrant, "refresh_token", "authorization_code",
            "client_credentials", "password", "implicit", pending.Get("device_code"), pending.Get("user_code"),
            pending.Get("user_code").Replace("-", ""), scanned.Get("device_code"), scan.ScanId, scan.ConfirmTicket,
            signedIn.Get("refresh_token"), signedIn.Get("access_token"), phone.AccessToken, Infrastructure.Protocol.DemoScopes,
            PhoneApp.Scope, "openid", "api", "offline_access", CodeFlow.PhoneRedirect, "http://127.0.0.1:1/callback",
            AuthServerFactory.WebAppRedirectUri, "code", "id_token", "S256", "plain", CodeFlow.Pkce.New().Challenge, "none",
            "login", "consent", "access_token", "refresh_token", victim.Email, victimId, phone.DeviceId, "admin", "Confidential",
            "Public", "00:00:05", "1.00:00:00", "on", "true", "false", "1", "7", "/", "/admin", "https://evil.example/",
        };

        // Each page's forms, as the admin, the user and an anonymous browser see them, with ids that exist.
        var fields = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var browsers = identities.Where(i => i.Cookie is not null).ToList();
        using var http = factory.CreateDefaultClient(factory.ClientOptions.BaseAddress);
        foreach (var page in targets.Where(t => t.Door == Door.Page && t.Method == "GET").Select(t => t.Route).Distinct())
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var urls = FuzzTargets.Parameter.IsMatch(page)
                ? routeValues.Select(v => FuzzTargets.Parameter.Replace(page, Uri.EscapeDataString(v)))
                : [page];
            foreach (var url in urls)
            {
                foreach (var identity in browsers)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, url);
                    request.Headers.TryAddWithoutValidation("Cookie", identity.Cookie);
                    request.Headers.Accept.ParseAdd("text/html");
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode == HttpStatusCode.OK) names.UnionWith(FuzzTargets.FieldNames(await response.Content.ReadAsStringAsync()));
                }
            }
            names.Remove("__RequestVerificationToken");
            fields[page] = [.. names.Order(StringComparer.Ordinal)];
        }
        return new FuzzMaterial { Identities = identities, Values = values, RouteValues = routeValues, PageFields = fields };
    }

    /// <summary>A browser session (signed in when <paramref name="account"/> is given) and the antiforgery token of one of its pages.</summary>
    private static async Task<FuzzIdentity> SessionAsync(AuthServerFactory factory, string name, (string Email, string Password)? account, string formPage)
    {
        var jar = new CookieContainer();
        using var browser = factory.CreateDefaultClient(factory.ClientOptions.BaseAddress, new CookieJar(jar));
        if (account is { } signIn) await browser.SignInAsync(signIn.Email, signIn.Password);
        var token = Browser.AntiforgeryToken(await browser.GetStringAsync(formPage));
        return new FuzzIdentity(name, jar.GetCookieHeader(factory.ClientOptions.BaseAddress), null, token);
    }

    /// <summary>Keeps cookies like a browser, in a container the test can read (the factory's own handler hides its).</summary>
    private sealed class CookieJar(CookieContainer jar) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var cookies = jar.GetCookieHeader(request.RequestUri!);
            if (cookies.Length > 0) request.Headers.TryAddWithoutValidation("Cookie", cookies);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var set))
                foreach (var cookie in set) jar.SetCookies(request.RequestUri!, cookie);
            return response;
        }
    }
}
