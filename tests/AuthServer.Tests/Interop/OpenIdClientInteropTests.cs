using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AuthServer.Tests.Interop;

/// <summary>
/// An independent RFC 8628 client, unmodified: openid-client (with jose for the JWTs) runs in Node against the real
/// server on Kestrel over loopback, while the test approves the user code through the real pages. The script is
/// tests/interop/device-flow.mjs; its dependencies are installed by ./test.sh (npm ci).
/// </summary>
public sealed class OpenIdClientInteropTests(ITestOutputHelper output) : IDisposable
{
    private const string ClientId = "interop-openid-client";
    private const string Scopes = "openid profile offline_access api";
    private const string DeviceName = "openid-client interop";
    private static readonly TimeSpan UserCodeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    private readonly AuthServerFactory _factory = AuthServerFactory.With(new()
    {
        [$"Clients:{ClientId}:DisplayName"] = "openid-client interop test",
        [$"Clients:{ClientId}:Type"] = "Public",
        [$"Clients:{ClientId}:GrantTypes:0"] = "urn:ietf:params:oauth:grant-type:device_code",
        [$"Clients:{ClientId}:GrantTypes:1"] = "refresh_token",
        [$"Clients:{ClientId}:Scopes:0"] = "openid",
        [$"Clients:{ClientId}:Scopes:1"] = "profile",
        [$"Clients:{ClientId}:Scopes:2"] = "offline_access",
        [$"Clients:{ClientId}:Scopes:3"] = "api",
        [$"Clients:{ClientId}:PollInterval"] = "00:00:01",
    });

    [Fact]
    public async Task Openid_client_signs_in_with_the_device_flow_refreshes_and_its_access_token_verifies_with_jose()
    {
        var interop = InteropDirectory();
        // The client is another process living in real time: the server keeps the same time, on a real socket.
        _factory.UseSystemClock = true;
        _factory.UseKestrel(0);
        _factory.StartServer();
        var issuer = ServerAddress();

        using var node = StartNode(interop, issuer, out var stderr, out var firstPendingPoll);
        string Diagnostics() { lock (stderr) return $"\n--- device-flow.mjs stderr ---\n{stderr}"; }
        try
        {
            var started = await ReadUserCodeLineAsync(node, Diagnostics);
            started.GetProperty("verification_uri").GetString().ShouldBe($"{issuer}/device", Diagnostics());
            started.GetProperty("interval").GetInt32().ShouldBe(1, Diagnostics());
            var userCode = started.GetProperty("user_code").GetString()!;

            // Approve only once the library has been told authorization_pending, so its polling loop is exercised.
            try { await firstPendingPoll.WaitAsync(UserCodeTimeout); }
            catch (TimeoutException) { Assert.Fail($"device-flow.mjs was not told authorization_pending within {UserCodeTimeout.TotalSeconds} s.{Diagnostics()}"); }

            using var phone = CreateBrowser(issuer);
            await phone.SignInAsync();
            await phone.ScanAndDecideAsync(userCode, approve: true);

            var rest = node.StandardOutput.ReadToEndAsync();
            using (var exit = new CancellationTokenSource(ExitTimeout))
            {
                try { await node.WaitForExitAsync(exit.Token); }
                catch (OperationCanceledException) { Assert.Fail($"device-flow.mjs did not finish within {ExitTimeout.TotalSeconds} s.{Diagnostics()}"); }
            }
            var stdout = await rest;
            node.ExitCode.ShouldBe(0, $"device-flow.mjs failed; stdout:\n{stdout}{Diagnostics()}");

            var result = LastJsonLine(stdout, Diagnostics);
            output.WriteLine(result.ToString());
            string Text(string name) => result.GetProperty(name).GetString()!;
            Text("token_type").ShouldBe("Bearer");
            Text("scope").ShouldBe(Scopes);
            Text("access_token_alg").ShouldBe("ES256");
            Text("access_token_typ").ShouldBe("at+jwt");
            Text("client_id").ShouldBe(ClientId);
            Text("id_token_aud").ShouldBe(ClientId);
            result.GetProperty("polls").GetInt32().ShouldBeGreaterThan(1, "the first poll came before approval");
            result.GetProperty("slow_downs").GetInt32().ShouldBe(0, "a client that keeps the interval is never slowed down");
            result.GetProperty("refreshed").GetBoolean().ShouldBeTrue();
            Text("refreshed_token_type").ShouldBe("Bearer");
            Text("refreshed_scope").ShouldBe(Scopes);
            result.GetProperty("refresh_token_rotated").GetBoolean().ShouldBeTrue();

            // The tokens name the demo user, who approved, and the device the flow linked to that account.
            using var scope = _factory.Services.CreateScope();
            var demo = await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByEmailAsync(AuthServerFactory.DemoEmail);
            Text("sub").ShouldBe(demo!.Id);
            Text("id_token_sub").ShouldBe(demo.Id);
            // No new ID token on a refresh (OIDC Core §12.2), and the library accepts its absence.
            result.GetProperty("refreshed_id_token_sub").ValueKind.ShouldBe(JsonValueKind.Null);
            var deviceId = Text("device_id");
            var device = await scope.ServiceProvider.GetRequiredService<AuthServerDbContext>().Authorizations
                .Include(a => a.Application).SingleAsync(a => a.Id == deviceId);
            device.Subject.ShouldBe(demo.Id);
            device.Application!.ClientId.ShouldBe(ClientId);
            device.DeviceName.ShouldBe(DeviceName);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
            output.WriteLine(Diagnostics());
        }
    }

    public void Dispose() => _factory.Dispose();

    /// <summary>tests/interop, with its npm dependencies installed.</summary>
    private static string InteropDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "interop");
            if (!File.Exists(Path.Combine(candidate, "device-flow.mjs"))) continue;
            if (!Directory.Exists(Path.Combine(candidate, "node_modules", "openid-client"))
                || !Directory.Exists(Path.Combine(candidate, "node_modules", "jose")))
                Assert.Fail($"The interop test's npm dependencies are not installed in {candidate}. Run ./test.sh, which runs 'npm ci' there.");
            return candidate;
        }
        Assert.Fail($"tests/interop/device-flow.mjs was not found above {AppContext.BaseDirectory}.");
        return null!;
    }

    /// <summary>The origin Kestrel bound to on loopback, which Development also uses as the issuer.</summary>
    private string ServerAddress()
    {
        var addresses = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            ?? addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? throw new ShouldAssertException($"Kestrel has no http address: {string.Join(", ", addresses)}");
        return address.TrimEnd('/');
    }

    /// <summary>Starts the script; <paramref name="firstPendingPoll"/> completes when it reports an authorization_pending answer.</summary>
    private static Process StartNode(string interop, string issuer, out StringBuilder stderr, out Task firstPendingPoll)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = interop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("device-flow.mjs");
        info.ArgumentList.Add(issuer);
        info.ArgumentList.Add(ClientId);
        info.ArgumentList.Add(DeviceName);

        var errors = new StringBuilder();
        var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (errors) errors.AppendLine(e.Data);
            if (e.Data.Contains("\"error\":\"authorization_pending\"", StringComparison.Ordinal)) pending.TrySetResult();
        };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            Assert.Fail($"Could not start 'node' for the interop test ({ex.Message}). Install Node.js and run ./test.sh.");
        }
        process.BeginErrorReadLine();
        stderr = errors;
        firstPendingPoll = pending.Task;
        return process;
    }

    private static async Task<JsonElement> ReadUserCodeLineAsync(Process node, Func<string> diagnostics)
    {
        using var timeout = new CancellationTokenSource(UserCodeTimeout);
        string? line;
        try
        {
            line = await node.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new ShouldAssertException($"device-flow.mjs printed no user code within {UserCodeTimeout.TotalSeconds} s.{diagnostics()}");
        }
        if (line is null)
        {
            await node.WaitForExitAsync();
            throw new ShouldAssertException($"device-flow.mjs exited with {node.ExitCode} before printing a user code.{diagnostics()}");
        }
        return Parse(line, diagnostics);
    }

    private static JsonElement LastJsonLine(string output, Func<string> diagnostics) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } lines
            ? Parse(lines[^1], diagnostics)
            : throw new ShouldAssertException($"device-flow.mjs printed no result.{diagnostics()}");

    private static JsonElement Parse(string line, Func<string> diagnostics)
    {
        try
        {
            return JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new ShouldAssertException($"device-flow.mjs printed a line that is not JSON: {line}{diagnostics()}");
        }
    }

    /// <summary>A real browser's HTTP client for the phone side: cookies kept, redirects not followed.</summary>
    private static HttpClient CreateBrowser(string issuer) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(issuer),
        };
}
