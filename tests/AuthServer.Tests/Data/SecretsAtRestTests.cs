using System.Text;
using AuthServer.Clients;
using AuthServer.DeviceFlow;
using AuthServer.Tests.Infrastructure;
using AuthServer.Tests.Phone;
using Microsoft.Data.Sqlite;

namespace AuthServer.Tests.Data;

/// <summary>
/// Device codes, refresh tokens, confirm tickets, browser binding secrets and client secrets are bearer secrets: the database holds only their
/// SHA-256, so a copy of it signs nobody in.
/// </summary>
public sealed class SecretsAtRestTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    [Fact]
    public async Task No_bearer_secret_is_stored_in_the_clear_only_its_hash()
    {
        var tokens = await factory.SignInDeviceAsync();
        var screen = await Screen.StartAsync(factory);
        var phone = await PhoneApp.SignInAsync(factory);
        var scan = await phone.ScanOkAsync(screen.UserCode);
        // The QR sign-in's browser binding: the cookie's secret, whose hash the login request keeps.
        var browserStart = await factory.CreateBrowser().StartAsync(AuthServer.WebSignIn.BrowserBinding.ClientId, "openid profile", "Chrome on Linux");
        var bindingCookie = browserStart.Response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AuthServer.WebSignIn.BrowserBinding.CookieName + "=", StringComparison.Ordinal));
        var bindingSecret = bindingCookie.Split(';')[0][(AuthServer.WebSignIn.BrowserBinding.CookieName.Length + 1)..];
        var secrets = new Dictionary<string, string>
        {
            ["device code"] = screen.DeviceCode,
            ["refresh token"] = tokens.Get("refresh_token"),
            ["confirm ticket"] = scan.ConfirmTicket,
            ["client secret"] = AuthServerFactory.SecretClientSecret,
            ["browser binding secret"] = bindingSecret,
        };

        await using (var connection = new SqliteConnection($"Data Source={factory.DatabasePath}"))
        {
            await connection.OpenAsync();
            // Refresh tokens are OpenIddict's, in a format only the server can open: their rows hold neither them nor a
            // payload. Device codes are OpenIddict reference tokens, and our login request keeps only their hash.
            (await CountAsync(connection, "OpenIddictTokens", "Type", OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken)).ShouldBeGreaterThan(0);
            (await CountAsync(connection, "DeviceAuthorizations", "DeviceCodeHash", OpaqueSecret.Hash(screen.DeviceCode))).ShouldBe(1);
            (await CountAsync(connection, "DeviceAuthorizations", "ConfirmTicketHash", OpaqueSecret.Hash(scan.ConfirmTicket))).ShouldBe(1);
            (await CountAsync(connection, "BrowserSignIns", "BindingHash", OpaqueSecret.Hash(bindingSecret))).ShouldBe(1);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT \"ClientSecret\" FROM \"OpenIddictApplications\" WHERE \"ClientId\" = $id";
            command.Parameters.AddWithValue("$id", AuthServerFactory.SecretClientId);
            ((string)(await command.ExecuteScalarAsync())!).ShouldContain(ClientSecretHasher.Hash(AuthServerFactory.SecretClientSecret));
        }

        // Nowhere in the database file or its write-ahead log does any of them appear as written.
        var stored = string.Concat(new[] { factory.DatabasePath, factory.DatabasePath + "-wal" }
            .Where(File.Exists)
            .Select(path =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                return Encoding.Latin1.GetString(memory.ToArray());
            }));
        stored.Length.ShouldBeGreaterThan(0);
        foreach (var (name, secret) in secrets)
            stored.Contains(secret, StringComparison.Ordinal).ShouldBeFalse($"the {name} is stored in the clear");
    }

    private static async Task<long> CountAsync(SqliteConnection connection, string table, string column, string value)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" = $value";
        command.Parameters.AddWithValue("$value", value);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
