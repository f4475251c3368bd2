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

    public sealed class OnPostgreSql() : GrantTransactionTests(DatabaseProvider.PostgreSql);

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

    private sealed class Server(DatabaseProvider provider, FailSuccessorLink faults) : AuthServerFactory(provider)
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

    /// <summary>The row of the one refresh token this server has issued: the login's.</summary>
    private static async Task<string> OnlyRefreshTokenIdAsync(AuthServerFactory server)
    {
        const string type = OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken;
        await using var connection = await server.OpenDatabaseAsync();
        (await connection.ScalarAsync<long>("SELECT COUNT(*) FROM \"OpenIddictTokens\" WHERE \"Type\" = @type", ("type", type))).ShouldBe(1);
        return await connection.ScalarAsync<string>("SELECT \"Id\" FROM \"OpenIddictTokens\" WHERE \"Type\" = @type", ("type", type));
    }
}
