using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Data;

/// <summary>
/// Every request that carries a token has OpenIddict check the token's row and then its authorization's (the linked
/// device): revoking either stops the token at once. The token store reads both rows in one statement, and the
/// authorization check finds the row that statement read (Data/Stores/ReadAuthorizations). These prove the one
/// statement; LinkedDeviceTests proves that a device revoked in the database alone (its tokens' rows untouched) is
/// still refused at once, on both providers.
/// </summary>
public sealed class TokenReadTests : IDisposable
{
    private readonly AuthServerFactory _factory = new();

    /// <summary>A statement that reads the authorization table alone, not joined to a token.</summary>
    private static bool ReadsAnAuthorizationAlone(string sql) =>
        sql.Contains("FROM \"OpenIddictAuthorizations\"", StringComparison.Ordinal)
        && !sql.Contains("\"OpenIddictTokens\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_phone_request_checks_its_token_and_its_linked_device_with_one_statement()
    {
        var phone = await PhoneApp.SignInAsync(_factory);
        using var statements = new StatementCounter(_factory);

        // Not a user code: answered without a lookup, so the token's check is all the database work.
        var scan = await phone.ScanAsync("!");
        scan.Status.ShouldBe(HttpStatusCode.NotFound);

        statements.EfStatements.ShouldHaveSingleItem().ShouldContain("LEFT JOIN \"OpenIddictAuthorizations\"");
        statements.Count.ShouldBe(1);
    }

    /// <summary>A statement that reads the accounts table alone, not joined to a token.</summary>
    private static bool ReadsAnAccountAlone(string sql) =>
        sql.Contains("FROM \"AspNetUsers\"", StringComparison.Ordinal) && !sql.Contains("\"OpenIddictTokens\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_refresh_grant_reads_its_linked_device_and_its_account_with_the_token()
    {
        var tokens = await _factory.SignInDeviceAsync();
        using var statements = new StatementCounter(_factory);

        var refreshed = await _factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"));
        refreshed.Status.ShouldBe(HttpStatusCode.OK);

        statements.EfStatements.ShouldContain(sql => sql.Contains("LEFT JOIN \"OpenIddictAuthorizations\"", StringComparison.Ordinal));
        statements.EfStatements.ShouldNotContain(sql => ReadsAnAuthorizationAlone(sql));
        statements.EfStatements.ShouldNotContain(sql => ReadsAnAccountAlone(sql));
    }

    [Fact]
    public async Task An_approval_reads_the_phones_account_with_the_phones_token()
    {
        var phone = await PhoneApp.SignInAsync(_factory);
        var started = await _factory.CreateClient().StartAsync();
        var scan = await phone.ScanOkAsync(started.Get("user_code"));
        using var statements = new StatementCounter(_factory);

        (await phone.ApproveAsync(scan.ScanId, scan.ConfirmTicket)).Status.ShouldBe(HttpStatusCode.NoContent);

        statements.EfStatements.ShouldContain(sql => sql.Contains("LEFT JOIN \"AspNetUsers\"", StringComparison.Ordinal));
        statements.EfStatements.ShouldNotContain(sql => ReadsAnAccountAlone(sql));
    }

    [Fact]
    public async Task A_device_codes_redemption_reads_its_account_with_the_code()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        await _factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        using var statements = new StatementCounter(_factory);

        var tokens = await device.PollAsync(started.Get("device_code"), "demo-tv");

        tokens.Status.ShouldBe(HttpStatusCode.OK);
        statements.EfStatements.ShouldContain(sql => sql.Contains("LEFT JOIN \"AspNetUsers\"", StringComparison.Ordinal));
        statements.EfStatements.ShouldNotContain(sql => ReadsAnAccountAlone(sql));
    }

    public void Dispose() => _factory.Dispose();
}
