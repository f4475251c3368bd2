using System.Net;
using System.Net.Http.Headers;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Tokens;

public abstract class LinkedDeviceTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : LinkedDeviceTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : LinkedDeviceTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    [Fact]
    public async Task A_logged_out_device_can_neither_refresh_nor_use_its_access_token()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;

        // Revoked in the database itself, as another node or an operator would: every check reads it.
        await using (var connection = await factory.OpenDatabaseAsync())
        {
            (await connection.ExecuteAsync("UPDATE \"OpenIddictAuthorizations\" SET \"Status\" = 'revoked' WHERE \"Id\" = @id", ("@id", deviceId))).ShouldBe(1);
        }
        var http = factory.CreateClient();

        var refresh = await http.RefreshAsync(tokens.Get("refresh_token"));
        refresh.Status.ShouldBe(HttpStatusCode.BadRequest);
        refresh.Error.ShouldBe("invalid_grant");

        var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Get("access_token"));
        var userinfo = await Infrastructure.Protocol.ReadAsync(await http.SendAsync(request));
        userinfo.Status.ShouldBe(HttpStatusCode.Unauthorized);
        userinfo.Error.ShouldBe("invalid_token");
    }
}
