using System.Data.Common;
using System.Net;
using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Server;

namespace AuthServer.Tests.Protocol;

/// <summary>
/// A refresh grant's writes commit as one (<c>GrantTransactionHandlers</c>): the count of the presented token's uses
/// (RFC 9700 §4.14.2), its redemption, the new access and refresh tokens with the audit event, and the link to the
/// successor. A failure at the last of them must leave nothing of the others behind, and the client's retry must then
/// succeed as a first use would.
/// </summary>
public abstract class GrantTransactionTests(DatabaseProvider provider)
{
    public sealed class OnSqlite() : GrantTransactionTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : GrantTransactionTests(DatabaseProvider.PostgreSql)
    {
        /// <summary>
        /// The other order: a refresh grant that read its device as valid reaches its transaction's first lock while
        /// a logout of the device is between revoking the device's row and revoking its tokens. The logout holds the
        /// row's lock until its tokens are revoked (<c>LinkedDevices</c>), so the grant's shared lock on that row waits
        /// for the whole logout. Its redemption then fails (the revocation renewed the row's concurrency token), and
        /// since OpenIddict goes on with a refresh grant whatever its redemption did, <c>RefuseRevokedDuringGrant</c>
        /// reads the row again and refuses it. When the logout's two statements committed apart, the grant went ahead
        /// between them; and before that handler, a grant that lost its redemption to the revocation issued tokens
        /// anyway (both seen failing this test).
        /// </summary>
        [Fact]
        public async Task A_refresh_grant_that_reaches_its_first_lock_during_a_logout_waits_for_the_whole_logout()
        {
            var pauses = new PauseAt(
                grant: text => text.Contains("FOR SHARE", StringComparison.Ordinal),
                logout: text => text.TrimStart().StartsWith("UPDATE \"OpenIddictTokens\"", StringComparison.Ordinal)
                    && text[text.LastIndexOf("WHERE", StringComparison.Ordinal)..].Contains("\"AuthorizationId\"", StringComparison.Ordinal));
            using var server = new Server(DatabaseProvider.PostgreSql, pauses);
            var login = await server.SignInDeviceAsync();
            var deviceId = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(login.Get("access_token")).GetClaim("device_id").Value;
            var phone = await PhoneApp.SignInAsync(server);
            pauses.Grant.Arm();
            pauses.Logout.Arm();

            var grant = server.CreateClient().RefreshAsync(login.Get("refresh_token"));
            await pauses.Grant.Reached.WaitAsync(TimeSpan.FromSeconds(30));
            var logout = phone.LogOutAsync(deviceId);
            await pauses.Logout.Reached.WaitAsync(TimeSpan.FromSeconds(30));
            pauses.Grant.Release();
            await WaitForLockWaitAsync(server);
            grant.IsCompleted.ShouldBeFalse();
            pauses.Logout.Release();

            (await logout).Status.ShouldBe(HttpStatusCode.NoContent);
            var refused = await grant;
            refused.Status.ShouldBe(HttpStatusCode.BadRequest, refused.Json.ToString());
            refused.Error.ShouldBe("invalid_grant");
            await using var connection = await server.OpenDatabaseAsync();
            (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"AuthorizationId\" = @id AND \"Status\" = 'valid'",
                ("id", deviceId))).ShouldBe(0);
        }
    }

    /// <summary>Once armed, holds the first statement that matches until released.</summary>
    private sealed class Pause(Func<string, bool> matches)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;

        public void Arm() => Volatile.Write(ref _armed, 1);
        public Task Reached => _reached.Task;
        public void Release() => _release.TrySetResult();

        public async ValueTask HoldAsync(string text, CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _armed) == 0 || !matches(text) || Interlocked.Exchange(ref _armed, 0) == 0) return;
            _reached.TrySetResult();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
    }

    /// <summary>Holds one statement of the grant and one of the logout, each the first that matches once armed.</summary>
    private sealed class PauseAt(Func<string, bool> grant, Func<string, bool> logout) : DbCommandInterceptor
    {
        public Pause Grant { get; } = new(grant);
        public Pause Logout { get; } = new(logout);

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            await Grant.HoldAsync(command.CommandText, cancellationToken);
            await Logout.HoldAsync(command.CommandText, cancellationToken);
            return result;
        }
    }

    /// <summary>Fails the successor link, the grant's last write, while armed.</summary>
    private sealed class FailSuccessorLink : DbCommandInterceptor
    {
        public volatile bool Armed;
        public int Failed;

        private void Check(DbCommand command)
        {
            if (!Armed || !command.CommandText.TrimStart().StartsWith("UPDATE \"RefreshTokenUses\"", StringComparison.Ordinal)) return;
            Interlocked.Increment(ref Failed);
            throw new InvalidOperationException("Injected failure of the successor link.");
        }

        public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        {
            Check(command);
            return result;
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Check(command);
            return ValueTask.FromResult(result);
        }
    }

    /// <summary>Refuses every sign-in at the token endpoint after its redemption, while armed.</summary>
    private sealed class RefuseAfterRedemption : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext>
    {
        public volatile bool Armed;

        public OpenIddictServerHandlerDescriptor Descriptor() =>
            OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ProcessSignInContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireTokenRequest>()
                .UseSingletonHandler(this)
                .SetOrder(OpenIddictServerHandlers.GenerateAccessToken.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(OpenIddictServerEvents.ProcessSignInContext context)
        {
            if (Armed) context.Reject("access_denied", "Refused by the test after the redemption.");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Server(DatabaseProvider provider, DbCommandInterceptor faults) : AuthServerFactory(provider)
    {
        public RefuseAfterRedemption Refusal { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.ConfigureDbContext<SqliteAuthServerDbContext>(options => options.AddInterceptors(faults));
                services.ConfigureDbContext<PostgreSqlAuthServerDbContext>(options => options.AddInterceptors(faults));
                services.AddOpenIddict().AddServer(server => server.AddEventHandler(Refusal.Descriptor()));
            });
        }
    }

    /// <summary>
    /// RFC 6749 §4.1.2: a code is used once. OpenIddict redeems early so that an exchange refused later in sign-in still
    /// spends its code; inside the grant's transaction that redemption must commit with the refusal, not roll back.
    /// </summary>
    [Fact]
    public async Task An_authorization_code_whose_sign_in_is_refused_after_its_redemption_is_spent()
    {
        using var server = new Server(provider, new FailSuccessorLink());
        var browser = server.CreateBrowser();
        await browser.SignInAsync();
        var pkce = CodeFlow.Pkce.New();
        var code = await CodeFlow.GetCodeAsync(browser, "phone", CodeFlow.PhoneRedirect, pkce, "openid offline_access phone_app");
        var app = server.CreateClient();

        server.Refusal.Armed = true;
        Infrastructure.Protocol.Answer refused;
        try
        {
            refused = await CodeFlow.RedeemAsync(app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);
        }
        finally
        {
            server.Refusal.Armed = false;
        }

        refused.Error.ShouldBe("access_denied");
        var again = await CodeFlow.RedeemAsync(app, "phone", code, CodeFlow.PhoneRedirect, pkce.Verifier);
        again.Status.ShouldBe(HttpStatusCode.BadRequest);
        again.Error.ShouldBe("invalid_grant");
    }

    private static async Task<(long Tokens, long Events, string? Status, long Presentations)> StateAsync(AuthServerFactory server, string tokenId)
    {
        await using var connection = await server.OpenDatabaseAsync();
        return (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\""),
            await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"AuditEvents\""),
            await connection.ScalarAsync<string>("SELECT \"Status\" FROM \"OpenIddictTokens\" WHERE \"Id\" = @id", ("id", tokenId)),
            await connection.ScalarAsync<long>("SELECT COALESCE(MAX(\"Presentations\"), 0) FROM \"RefreshTokenUses\" WHERE \"TokenId\" = @id", ("id", tokenId)));
    }

    [Fact]
    public async Task A_refresh_grant_that_fails_at_its_last_write_leaves_no_token_event_redemption_or_count_and_its_retry_succeeds()
    {
        var faults = new FailSuccessorLink();
        using var server = new Server(provider, faults);
        var device = server.CreateClient();
        var login = await server.SignInDeviceAsync();
        var presented = login.Get("refresh_token");
        var tokenId = await OnlyRefreshTokenIdAsync(server);
        var before = await StateAsync(server, tokenId);
        before.Status.ShouldBe("valid");
        before.Presentations.ShouldBe(0);

        faults.Armed = true;
        var failed = await device.RefreshAsync(presented);
        faults.Armed = false;

        faults.Failed.ShouldBe(1);
        failed.Status.ShouldBe(HttpStatusCode.InternalServerError);
        failed.Error.ShouldBe("server_error");
        // Nothing of the grant stayed: no new access or refresh token row, no "token issued" event, the token unredeemed,
        // its use not counted.
        (await StateAsync(server, tokenId)).ShouldBe(before);

        var retried = await device.RefreshAsync(presented);

        retried.Status.ShouldBe(HttpStatusCode.OK, retried.Json.ToString());
        var after = await StateAsync(server, tokenId);
        after.Status.ShouldBe("redeemed");
        // Counted once, as a first use: the failed try left no count that would have made this its one retry.
        after.Presentations.ShouldBe(1);
        (await device.RefreshAsync(retried.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>
    /// A device logged out while one of its refresh grants is between its redemption and its commit: the logout must
    /// also revoke the tokens that grant issues, not only the ones that existed when it began (revocation takes effect
    /// at once, RFC 7009 §2.1). On PostgreSQL the grant holds a shared lock on the device's row from its first
    /// statement (<c>GrantTransactionHandlers</c>), so the logout's update of that row waits for the grant's commit,
    /// and its revocation of the device's tokens then finds the new ones. Without that lock the logout went ahead, its
    /// revocation waited only for the redeemed token's row, and the grant's new tokens stayed valid in the database
    /// (and the two could deadlock on a retry's replaced successor). On SQLite the logout waits for the single writer.
    /// </summary>
    [Fact]
    public async Task A_device_logged_out_during_its_refresh_grant_has_the_tokens_of_that_grant_revoked_too()
    {
        // The successor link is the grant's last write: the grant is then inside its transaction, its token redeemed
        // and its new tokens' rows written but not committed.
        var pauses = new PauseAt(grant: text => text.TrimStart().StartsWith("UPDATE \"RefreshTokenUses\"", StringComparison.Ordinal), logout: _ => false);
        using var server = new Server(provider, pauses);
        var login = await server.SignInDeviceAsync();
        var deviceId = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(login.Get("access_token")).GetClaim("device_id").Value;
        var phone = await PhoneApp.SignInAsync(server);

        pauses.Grant.Arm();
        var grant = server.CreateClient().RefreshAsync(login.Get("refresh_token"));
        await pauses.Grant.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var logout = phone.LogOutAsync(deviceId);
        if (provider == DatabaseProvider.PostgreSql)
        {
            // The logout must be waiting for a lock the paused grant holds, not done and not past the device's row.
            await WaitForLockWaitAsync(server);
            logout.IsCompleted.ShouldBeFalse();
        }
        pauses.Grant.Release();

        var refreshed = await grant;
        (await logout).Status.ShouldBe(HttpStatusCode.NoContent);
        refreshed.Status.ShouldBe(HttpStatusCode.OK, refreshed.Json.ToString());
        await using (var connection = await server.OpenDatabaseAsync())
        {
            (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"AuthorizationId\" = @id AND \"Status\" = 'valid'",
                ("id", deviceId))).ShouldBe(0);
        }
        var next = await server.CreateClient().RefreshAsync(refreshed.Get("refresh_token"));
        next.Status.ShouldBe(HttpStatusCode.BadRequest);
        next.Error.ShouldBe("invalid_grant");
    }

    /// <summary>Until another session on the test database waits for a lock (PostgreSQL's own view of its sessions).</summary>
    private static async Task WaitForLockWaitAsync(AuthServerFactory server)
    {
        await using var connection = await server.OpenDatabaseAsync();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await connection.ScalarAsync<long>(
                   "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") == 0)
            if (waited.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("The logout never waited for the grant's lock.");
    }

    /// <summary>The row of the one refresh token this server has issued: the login's.</summary>
    private static async Task<string> OnlyRefreshTokenIdAsync(AuthServerFactory server)
    {
        const string type = OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken;
        await using var connection = await server.OpenDatabaseAsync();
        (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"Type\" = @type", ("type", type))).ShouldBe(1);
        return await connection.ScalarAsync<string>("SELECT \"Id\" FROM \"OpenIddictTokens\" WHERE \"Type\" = @type", ("type", type));
    }
}
