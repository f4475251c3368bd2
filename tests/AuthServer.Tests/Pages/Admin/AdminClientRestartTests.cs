using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>
/// What start-up does to changes made on the clients screen: a client declared in configuration is registered from it
/// again (the configuration wins, field by field), while one created on the screen is kept as it is.
/// </summary>
public sealed class AdminClientRestartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("authserver-admin-restart-").FullName;

    private AuthServerFactory Start() =>
        AuthServerFactory.With(new() { ["ConnectionStrings:AuthServer"] = $"Data Source={Path.Combine(_directory, "shared.db")}" });

    [Fact]
    public async Task An_edit_of_a_configured_client_lasts_until_the_next_start_up_which_applies_the_configuration_again()
    {
        using (var before = Start())
        {
            var admin = await AdminPages.AdminAsync(before);
            var page = await admin.GetStringAsync("/admin/clients/edit/demo-tv");
            var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"ConcurrencyToken\" value=\"([^\"]*)\"").Groups[1].Value;
            var saved = await admin.SubmitAsync("/admin/clients/edit/demo-tv?handler=Save", page,
                [("ConcurrencyToken", token), .. AdminClientsTests.Form("demo-tv", scopes: ["openid", "profile", "offline_access", "api"],
                    extra: [("Input.DisplayName", "Edited TV"), ("Input.PollInterval", "00:00:09")])]);
            AdminPages.TestId(await saved.Content.ReadAsStringAsync(), "result").ShouldBe("Saved.");
            (await before.CreateClient().StartAsync()).Json.GetProperty("interval").GetInt32().ShouldBe(9);
            await AdminClientsTests.CreateAsync(admin, AdminClientsTests.Form("made-here", extra: [("Input.PollInterval", "00:00:07")]));
        }

        using var after = Start();
        var device = after.CreateClient();

        (await device.StartAsync()).Json.GetProperty("interval").GetInt32().ShouldBe(5);
        var afterAdmin = await AdminPages.AdminAsync(after);
        (await afterAdmin.GetStringAsync("/admin/clients/edit/demo-tv")).ShouldContain("value=\"Demo TV\"");
        var made = await device.StartAsync("made-here", "openid");
        made.Status.ShouldBe(HttpStatusCode.OK);
        made.Json.GetProperty("interval").GetInt32().ShouldBe(7);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
