using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tokens;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Tests.Tokens;

/// <summary>
/// Signing keys move Next (published) → Current (signing) → Retired (published until its tokens expired) on the
/// schedule of the <c>Keys</c> section, by the server's clock, with one rotation per algorithm however many nodes
/// share the database.
/// </summary>
public sealed class SigningKeyRotationTests
{
    private const string Es256 = "ES256";
    private const string Rs256 = "RS256";

    // A schedule short enough to read: access tokens live 10 minutes, well within KeepRetired.
    private static readonly TimeSpan RotationPeriod = TimeSpan.FromHours(1);
    private static readonly TimeSpan PublishAhead = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan KeepRetired = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(10);

    /// <summary>
    /// So long that the worker never checks during a test (a PeriodicTimer takes at most about 49 days): these tests
    /// drive the store themselves, deterministically. One test lets the worker do it.
    /// </summary>
    private static readonly TimeSpan QuietCheckInterval = TimeSpan.FromDays(40);

    private static readonly TimeSpan WorkerCheckInterval = TimeSpan.FromMinutes(7); // unlike any other timer of the server

    private static Dictionary<string, string?> Schedule(TimeSpan checkInterval, string? databasePath = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Keys:RotationPeriod"] = RotationPeriod.ToString("c"),
            ["Keys:PublishAhead"] = PublishAhead.ToString("c"),
            ["Keys:KeepRetired"] = KeepRetired.ToString("c"),
            ["Keys:CheckInterval"] = checkInterval.ToString("c"),
            // demo-tv with the server's default ID token algorithm, RS256, so both key kinds sign tokens here.
            ["Clients:demo-tv:IdTokenSignedResponseAlg"] = null,
        };
        if (databasePath is not null) settings["ConnectionStrings:AuthServer"] = $"Data Source={databasePath}";
        return settings;
    }

    private static AuthServerFactory Start(string? databasePath = null) => AuthServerFactory.With(Schedule(QuietCheckInterval, databasePath));

    private static SigningKeyStore StoreOf(AuthServerFactory factory) => factory.Services.GetRequiredService<SigningKeyStore>();

    private static async Task<List<SigningKey>> KeysAsync(AuthServerFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AuthServerDbContext>().SigningKeys.AsNoTracking().ToListAsync();
    }

    private static SigningKey Single(List<SigningKey> keys, string algorithm, SigningKeyStatus status)
    {
        var matching = keys.Where(k => k.Algorithm == algorithm && k.Status == status).ToList();
        matching.Count.ShouldBe(1, $"exactly one {status} {algorithm} key: {string.Join(", ", keys.Select(k => $"{k.Algorithm}/{k.Status}/{k.Id}"))}");
        return matching[0];
    }

    private static async Task<List<JsonElement>> JwksAsync(AuthServerFactory factory)
    {
        var response = await factory.CreateClient().GetAsync("/.well-known/jwks");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.Clone()).ToList();
    }

    private static async Task<List<string>> PublishedKidsAsync(AuthServerFactory factory) =>
        (await JwksAsync(factory)).Select(k => k.GetProperty("kid").GetString()!).ToList();

    private static string Kid(string jwt) => new JsonWebToken(jwt).Kid;

    /// <summary>Verifies a token's signature against a JWKS document, as a resource server with a fresh cache would.</summary>
    private static async Task<bool> VerifiesAgainstAsync(string token, string jwksJson)
    {
        var set = new JsonWebKeySet(jwksJson);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKeys = set.Keys,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
        });
        return result.IsValid;
    }

    private static async Task<string> JwksJsonAsync(AuthServerFactory factory) => await factory.CreateClient().GetStringAsync("/.well-known/jwks");

    private static async Task<HttpStatusCode> UserinfoStatusAsync(AuthServerFactory factory, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await factory.CreateClient().SendAsync(request)).StatusCode;
    }

    private static async Task<List<AuditEvent>> RotationEventsAsync(AuthServerFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AuthServerDbContext>().AuditEvents.AsNoTracking()
            .Where(e => e.Type == Audit.SigningKeyRotated).ToListAsync();
    }

    /// <summary>RFC 7638 thumbprint of a published JWK, from its required members only.</summary>
    private static string Thumbprint(JsonElement jwk)
    {
        string S(string name) => jwk.GetProperty(name).GetString()!;
        var canonical = S("kty") == "EC"
            ? $"{{\"crv\":\"{S("crv")}\",\"kty\":\"EC\",\"x\":\"{S("x")}\",\"y\":\"{S("y")}\"}}"
            : $"{{\"e\":\"{S("e")}\",\"kty\":\"RSA\",\"n\":\"{S("n")}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    // ---- What is published ----

    [Fact]
    public async Task The_JWKS_publishes_a_next_and_a_current_key_per_algorithm()
    {
        using var factory = Start();

        var keys = await KeysAsync(factory);
        var jwks = await JwksAsync(factory);

        keys.Count.ShouldBe(4);
        var currentEs = Single(keys, Es256, SigningKeyStatus.Current);
        var nextEs = Single(keys, Es256, SigningKeyStatus.Next);
        var currentRs = Single(keys, Rs256, SigningKeyStatus.Current);
        var nextRs = Single(keys, Rs256, SigningKeyStatus.Next);
        jwks.Select(k => k.GetProperty("kid").GetString()).ShouldBe([currentEs.Id, nextEs.Id, currentRs.Id, nextRs.Id], ignoreOrder: true);
        foreach (var jwk in jwks)
        {
            jwk.GetProperty("use").GetString().ShouldBe("sig");
            jwk.GetProperty("kid").GetString().ShouldBe(Thumbprint(jwk), "the kid is the key's RFC 7638 thumbprint");
            jwk.TryGetProperty("d", out _).ShouldBeFalse("no private part is ever published");
            var alg = jwk.GetProperty("alg").GetString();
            jwk.GetProperty("kty").GetString().ShouldBe(alg == Es256 ? "EC" : "RSA");
        }

        // The current keys sign: ES256 the access token, RS256 the ID token.
        var tokens = await factory.SignInDeviceAsync();
        Kid(tokens.Get("access_token")).ShouldBe(currentEs.Id);
        new JsonWebToken(tokens.Get("access_token")).Alg.ShouldBe(Es256);
        Kid(tokens.Get("id_token")).ShouldBe(currentRs.Id);
        new JsonWebToken(tokens.Get("id_token")).Alg.ShouldBe(Rs256);
    }

    [Fact]
    public async Task Before_the_rotation_period_a_check_changes_nothing()
    {
        using var factory = Start();
        var before = await KeysAsync(factory);

        factory.Clock.Advance(RotationPeriod - TimeSpan.FromSeconds(1));
        await StoreOf(factory).RotateAsync(force: false);

        var after = await KeysAsync(factory);
        after.Select(k => (k.Id, k.Status)).ShouldBe(before.Select(k => (k.Id, k.Status)), ignoreOrder: true);
        (await RotationEventsAsync(factory)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_reload_that_finds_the_same_keys_keeps_them_and_one_after_a_rotation_does_not()
    {
        using var factory = Start();
        var store = StoreOf(factory);
        var loaded = store.ValidationKeys;

        await store.ReloadAsync();
        // Same rows: the same key objects, so tokens verified against them need not be verified again.
        store.ValidationKeys.ShouldBeSameAs(loaded);

        await store.RotateAsync(force: true);
        store.ValidationKeys.ShouldNotBeSameAs(loaded);
    }

    // ---- Scheduled rotation ----

    [Fact]
    public async Task After_the_rotation_period_the_next_key_signs_and_a_fresh_next_key_is_published()
    {
        using var factory = Start();
        var before = await KeysAsync(factory);
        var oldEs = Single(before, Es256, SigningKeyStatus.Current);
        var nextEs = Single(before, Es256, SigningKeyStatus.Next);
        var oldRs = Single(before, Rs256, SigningKeyStatus.Current);
        var nextRs = Single(before, Rs256, SigningKeyStatus.Next);

        factory.Clock.Advance(RotationPeriod);
        await StoreOf(factory).RotateAsync(force: false);

        var rotatedAt = factory.Clock.GetUtcNow();
        var after = await KeysAsync(factory);
        Single(after, Es256, SigningKeyStatus.Current).Id.ShouldBe(nextEs.Id);
        Single(after, Rs256, SigningKeyStatus.Current).Id.ShouldBe(nextRs.Id);
        var retiredEs = after.Single(k => k.Id == oldEs.Id);
        retiredEs.Status.ShouldBe(SigningKeyStatus.Retired);
        retiredEs.RetiredAt.ShouldBe(rotatedAt);
        after.Single(k => k.Id == oldRs.Id).Status.ShouldBe(SigningKeyStatus.Retired);
        var freshEs = Single(after, Es256, SigningKeyStatus.Next);
        var freshRs = Single(after, Rs256, SigningKeyStatus.Next);
        freshEs.Id.ShouldNotBeOneOf(oldEs.Id, nextEs.Id);
        freshEs.CreatedAt.ShouldBe(rotatedAt);

        // New tokens carry the new kids; the JWKS has the retired, the current and the fresh next key of each algorithm.
        var tokens = await factory.SignInDeviceAsync();
        Kid(tokens.Get("access_token")).ShouldBe(nextEs.Id);
        Kid(tokens.Get("id_token")).ShouldBe(nextRs.Id);
        (await PublishedKidsAsync(factory)).ShouldBe([oldEs.Id, nextEs.Id, freshEs.Id, oldRs.Id, nextRs.Id, freshRs.Id], ignoreOrder: true);
        (await VerifiesAgainstAsync(tokens.Get("access_token"), await JwksJsonAsync(factory))).ShouldBeTrue();
    }

    [Fact]
    public async Task A_token_signed_before_the_rotation_still_validates_until_it_expires()
    {
        using var factory = Start();
        var oldEs = Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current);
        factory.Clock.Advance(RotationPeriod - TimeSpan.FromMinutes(5));
        var signedBefore = (await factory.SignInDeviceAsync()).Get("access_token");
        Kid(signedBefore).ShouldBe(oldEs.Id);

        factory.Clock.Advance(TimeSpan.FromMinutes(5));
        await StoreOf(factory).RotateAsync(force: false);
        Single(await KeysAsync(factory), Es256, SigningKeyStatus.Retired).Id.ShouldBe(oldEs.Id);

        // Our own endpoints and any resource server that reads the JWKS still accept it.
        (await UserinfoStatusAsync(factory, signedBefore)).ShouldBe(HttpStatusCode.OK);
        (await VerifiesAgainstAsync(signedBefore, await JwksJsonAsync(factory))).ShouldBeTrue();

        factory.Clock.Advance(AccessTokenLifetime - TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        (await UserinfoStatusAsync(factory, signedBefore)).ShouldBe(HttpStatusCode.OK);
        // OpenIddict still accepts a token in the second it expires (RFC 7519 §4.1.4); one more and it is gone.
        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        (await UserinfoStatusAsync(factory, signedBefore)).ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task After_KeepRetired_the_retired_key_leaves_the_JWKS()
    {
        using var factory = Start();
        var store = StoreOf(factory);
        var oldEs = Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current);
        var oldRs = Single(await KeysAsync(factory), Rs256, SigningKeyStatus.Current);
        factory.Clock.Advance(RotationPeriod - TimeSpan.FromMinutes(1));
        var signedBefore = (await factory.SignInDeviceAsync()).Get("access_token");
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await store.RotateAsync(force: false);

        factory.Clock.Advance(KeepRetired - TimeSpan.FromSeconds(1));
        await store.RotateAsync(force: false);
        (await PublishedKidsAsync(factory)).ShouldContain(oldEs.Id);

        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        await store.RotateAsync(force: false);

        var kids = await PublishedKidsAsync(factory);
        kids.ShouldNotContain(oldEs.Id);
        kids.ShouldNotContain(oldRs.Id);
        kids.Count.ShouldBe(4);
        (await VerifiesAgainstAsync(signedBefore, await JwksJsonAsync(factory))).ShouldBeFalse();
        // The row stays, retired, for the record.
        (await KeysAsync(factory)).Single(k => k.Id == oldEs.Id).Status.ShouldBe(SigningKeyStatus.Retired);
    }

    [Fact]
    public async Task A_next_key_is_published_for_PublishAhead_before_it_signs()
    {
        using var factory = Start();
        var store = StoreOf(factory);
        var current = Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current);
        // Lose the next keys (say an operator deleted them): the check must publish new ones before they sign.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AuthServerDbContext>().SigningKeys
                .Where(k => k.Status == SigningKeyStatus.Next).ExecuteDeleteAsync();
        }
        factory.Clock.Advance(RotationPeriod);

        await store.RotateAsync(force: false);
        var next = Single(await KeysAsync(factory), Es256, SigningKeyStatus.Next);
        Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current).Id.ShouldBe(current.Id, "a key published just now must not sign yet");
        (await PublishedKidsAsync(factory)).ShouldContain(next.Id);

        factory.Clock.Advance(PublishAhead - TimeSpan.FromSeconds(1));
        await store.RotateAsync(force: false);
        Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current).Id.ShouldBe(current.Id);

        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        await store.RotateAsync(force: false);
        Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current).Id.ShouldBe(next.Id);
        Kid((await factory.SignInDeviceAsync()).Get("access_token")).ShouldBe(next.Id);
    }

    // ---- Rotate now, audit ----

    [Fact]
    public async Task Rotate_now_switches_the_signing_key_at_once()
    {
        using var factory = Start();
        var before = await KeysAsync(factory);
        var oldEs = Single(before, Es256, SigningKeyStatus.Current);
        var nextEs = Single(before, Es256, SigningKeyStatus.Next);
        var nextRs = Single(before, Rs256, SigningKeyStatus.Next);

        await StoreOf(factory).RotateNowAsync();

        var after = await KeysAsync(factory);
        Single(after, Es256, SigningKeyStatus.Current).Id.ShouldBe(nextEs.Id);
        Single(after, Rs256, SigningKeyStatus.Current).Id.ShouldBe(nextRs.Id);
        Single(after, Es256, SigningKeyStatus.Retired).Id.ShouldBe(oldEs.Id);
        Single(after, Es256, SigningKeyStatus.Next).Id.ShouldNotBe(nextEs.Id);
        var tokens = await factory.SignInDeviceAsync();
        Kid(tokens.Get("access_token")).ShouldBe(nextEs.Id);
        Kid(tokens.Get("id_token")).ShouldBe(nextRs.Id);
    }

    [Fact]
    public async Task A_rotation_writes_a_signing_key_rotated_audit_event_per_algorithm()
    {
        using var factory = Start();
        var before = await KeysAsync(factory);
        var oldEs = Single(before, Es256, SigningKeyStatus.Current);
        var nextEs = Single(before, Es256, SigningKeyStatus.Next);

        factory.Clock.Advance(RotationPeriod);
        await StoreOf(factory).RotateAsync(force: false);

        var events = await RotationEventsAsync(factory);
        events.Count.ShouldBe(2);
        events.ShouldAllBe(e => e.At == factory.Clock.GetUtcNow());
        var es = events.Single(e => e.Detail!.StartsWith(Es256, StringComparison.Ordinal)).Detail!;
        es.ShouldContain(nextEs.Id);
        es.ShouldContain(oldEs.Id);
        es.ShouldNotContain("rotate now");
        events.Single(e => e.Detail!.StartsWith(Rs256, StringComparison.Ordinal));

        await StoreOf(factory).RotateNowAsync();
        var forced = (await RotationEventsAsync(factory)).Where(e => e.Detail!.Contains("(rotate now)", StringComparison.Ordinal)).ToList();
        forced.Count.ShouldBe(2);
    }

    // ---- Several nodes on one database ----

    [Fact]
    public async Task Two_concurrent_forced_rotations_on_one_database_leave_exactly_one_current_key_per_algorithm()
    {
        using var factory = Start();
        // Two stores, as two nodes would have, each resolved in its own scope, over one database.
        await using var scopeA = factory.Services.CreateAsyncScope();
        await using var scopeB = factory.Services.CreateAsyncScope();
        var nodeA = ActivatorUtilities.CreateInstance<SigningKeyStore>(scopeA.ServiceProvider);
        var nodeB = ActivatorUtilities.CreateInstance<SigningKeyStore>(scopeB.ServiceProvider);
        await nodeA.ReloadAsync();
        await nodeB.ReloadAsync();

        for (var round = 0; round < 5; round++)
        {
            await Task.WhenAll(
                Task.Run(() => nodeA.RotateAsync(force: true)),
                Task.Run(() => nodeB.RotateAsync(force: true)),
                Task.Run(() => StoreOf(factory).RotateAsync(force: true)));

            var keys = await KeysAsync(factory);
            foreach (var algorithm in new[] { Es256, Rs256 })
            {
                Single(keys, algorithm, SigningKeyStatus.Current);
                Single(keys, algorithm, SigningKeyStatus.Next);
            }
            // Every rotation retired exactly one key and wrote one event.
            (await RotationEventsAsync(factory)).Count.ShouldBe(keys.Count(k => k.Status == SigningKeyStatus.Retired));
        }

        // After their next reload every node signs with the one current key.
        await nodeA.ReloadAsync();
        await nodeB.ReloadAsync();
        await StoreOf(factory).ReloadAsync();
        var current = Single(await KeysAsync(factory), Es256, SigningKeyStatus.Current).Id;
        nodeA.GetSigningCredentials(Es256).Key.KeyId.ShouldBe(current);
        nodeB.GetSigningCredentials(Es256).Key.KeyId.ShouldBe(current);
        Kid((await factory.SignInDeviceAsync()).Get("access_token")).ShouldBe(current);
    }

    [Fact]
    public async Task A_second_server_rotating_is_picked_up_by_the_first_after_its_reload()
    {
        using var first = Start();
        var before = await KeysAsync(first);
        var oldEs = Single(before, Es256, SigningKeyStatus.Current);
        var nextEs = Single(before, Es256, SigningKeyStatus.Next);
        using var second = Start(databasePath: first.DatabasePath);
        // Two nodes share one time: each factory's clock starts at the wall-clock time it was made.
        var skew = second.Clock.GetUtcNow() - first.Clock.GetUtcNow();
        if (skew > TimeSpan.Zero) first.Clock.Advance(skew); else second.Clock.Advance(-skew);

        await StoreOf(second).RotateNowAsync();

        // The second server signs with the key the first one already published as next: the first accepts its tokens.
        var fromSecond = (await second.SignInDeviceAsync()).Get("access_token");
        Kid(fromSecond).ShouldBe(nextEs.Id);
        (await UserinfoStatusAsync(first, fromSecond)).ShouldBe(HttpStatusCode.OK);
        // Until it reloads, the first server still signs with the key it loaded.
        Kid((await first.SignInDeviceAsync()).Get("access_token")).ShouldBe(oldEs.Id);

        await StoreOf(first).ReloadAsync();

        Kid((await first.SignInDeviceAsync()).Get("access_token")).ShouldBe(nextEs.Id);
        var freshNext = Single(await KeysAsync(first), Es256, SigningKeyStatus.Next);
        (await PublishedKidsAsync(first)).ShouldContain(freshNext.Id);
        (await PublishedKidsAsync(first)).ShouldContain(oldEs.Id);
        (await PublishedKidsAsync(first)).ShouldBe(await PublishedKidsAsync(second), ignoreOrder: true);
    }

    // ---- The worker ----

    /// <summary>A server whose clock reports the timers it arms, so a test advances it only once the worker waits.</summary>
    private sealed class WatchedFactory : AuthServerFactory
    {
        private readonly Dictionary<string, string?> _extra;

        public WatchedFactory(Dictionary<string, string?> settings)
        {
            _extra = settings;
            Timers = new TimerWatch(Clock);
        }

        public TimerWatch Timers { get; }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            foreach (var (key, value) in _extra) builder.UseSetting(key, value);
            builder.ConfigureTestServices(services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(Timers);
            });
        }
    }

    /// <summary>
    /// Waits, bounded, for the background worker to finish what the clock's timer started. The worker runs on its
    /// own; there is nothing else to await. The bound only guards against a hang.
    /// </summary>
    private static async Task EventuallyAsync(Func<bool> condition, string because)
    {
        using var timeout = new CancellationTokenSource(EventStream.ReadTimeout);
        while (!condition())
        {
            if (timeout.IsCancellationRequested) throw new ShouldAssertException(because);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task The_rotation_worker_rotates_on_the_servers_clock_and_later_drops_the_retired_key()
    {
        using var factory = new WatchedFactory(Schedule(WorkerCheckInterval));
        var store = StoreOf(factory);
        await factory.Timers.WaitForTimerAsync(0, WorkerCheckInterval);
        var before = await KeysAsync(factory);
        var oldEs = Single(before, Es256, SigningKeyStatus.Current);
        var nextEs = Single(before, Es256, SigningKeyStatus.Next);
        var nextRs = Single(before, Rs256, SigningKeyStatus.Next);

        factory.Clock.Advance(RotationPeriod + WorkerCheckInterval);
        await EventuallyAsync(() => store.GetSigningCredentials(Rs256).Key.KeyId == nextRs.Id, "the worker should have rotated the keys");

        store.GetSigningCredentials(Es256).Key.KeyId.ShouldBe(nextEs.Id);
        var after = await KeysAsync(factory);
        Single(after, Es256, SigningKeyStatus.Retired).Id.ShouldBe(oldEs.Id);
        Single(after, Es256, SigningKeyStatus.Next).Id.ShouldNotBe(nextEs.Id);
        (await RotationEventsAsync(factory)).Count.ShouldBe(2);
        Kid((await factory.SignInDeviceAsync()).Get("access_token")).ShouldBe(nextEs.Id);

        factory.Clock.Advance(KeepRetired + WorkerCheckInterval);
        await EventuallyAsync(() => store.ValidationKeys.All(k => k.KeyId != oldEs.Id), "the worker's reload should drop the retired key");
        (await PublishedKidsAsync(factory)).ShouldNotContain(oldEs.Id);
    }
}
