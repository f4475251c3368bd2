using System.Net;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>
/// Two admins editing one client or one account at the same moment, both from the same version of the form: the
/// concurrency token (the client's <c>ConcurrencyToken</c>, the account's <c>ConcurrencyStamp</c>) lets exactly one
/// save in; the other is told, and the first save stands whole.
/// </summary>
public abstract class AdminConcurrencyTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminConcurrencyTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminConcurrencyTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private static string Hidden(string html, string name) =>
        WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, $"name=\"{name}\" value=\"([^\"]*)\"").Groups[1].Value);

    [Fact]
    public async Task Two_admins_saving_one_client_at_once_give_one_save_and_a_conflict_for_the_other()
    {
        var first = await AdminPages.AdminAsync(factory);
        var second = await AdminPages.AdminAsync(factory);
        var clientId = $"race-tv-{Guid.NewGuid():N}"[..20];
        await AdminClientsTests.CreateAsync(first, AdminClientsTests.Form(clientId));
        var url = $"/admin/clients/edit/{clientId}";

        for (var i = 0; i < 5; i++)
        {
            var firstPage = await first.GetStringAsync(url);
            var secondPage = await second.GetStringAsync(url);
            Hidden(firstPage, "ConcurrencyToken").ShouldBe(Hidden(secondPage, "ConcurrencyToken"));

            var saves = await Task.WhenAll(
                Task.Run(() => first.SubmitAsync($"{url}?handler=Save", firstPage, [("ConcurrencyToken", Hidden(firstPage, "ConcurrencyToken")),
                    .. AdminClientsTests.Form(clientId, extra: [("Input.DisplayName", $"Hall TV {i}")])])),
                Task.Run(() => second.SubmitAsync($"{url}?handler=Save", secondPage, [("ConcurrencyToken", Hidden(secondPage, "ConcurrencyToken")),
                    .. AdminClientsTests.Form(clientId, extra: [("Input.DisplayName", $"Lobby TV {i}")])])));

            var pages = await Task.WhenAll(saves.Select(s => s.Content.ReadAsStringAsync()));
            saves.ShouldAllBe(s => s.StatusCode == HttpStatusCode.OK);
            var results = pages.Select(p => AdminPages.TestId(p, "result")).ToArray();
            var problems = pages.Select(p => AdminPages.TestId(p, "problem")).ToArray();
            var winner = Array.IndexOf(results, "Saved.");
            winner.ShouldBeGreaterThanOrEqualTo(0, $"iteration {i}: {string.Join(" | ", results.Concat(problems))}");
            results.Count(r => r == "Saved.").ShouldBe(1, $"iteration {i}");
            problems[1 - winner].ShouldStartWith("Someone else saved this client while you were editing it");
            // The winner's save stands; the loser's input is still in its form, to compare and save again.
            (await first.GetStringAsync(url)).ShouldContain($"value=\"{(winner == 0 ? "Hall" : "Lobby")} TV {i}\"");
            pages[1 - winner].ShouldContain($"value=\"{(winner == 0 ? "Lobby" : "Hall")} TV {i}\"");
        }
        (await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.ClientUpdated && e.ClientId == clientId)).Count.ShouldBe(5);
    }

    [Fact]
    public async Task Two_admins_saving_one_accounts_roles_at_once_give_one_save_and_a_conflict_for_the_other()
    {
        var first = await AdminPages.AdminAsync(factory);
        var second = await AdminPages.AdminAsync(factory);
        var (email, _) = await PhoneApp.NewAccountAsync(factory, "roles-race");
        var userId = await UserIdAsync(email);
        var url = $"/admin/users/{userId}";
        foreach (var role in new[] { "support", "auditor", "ops" }) await CreateRoleAsync(role);

        for (var i = 0; i < 6; i++)
        {
            var firstPage = await first.GetStringAsync(url);
            var secondPage = await second.GetStringAsync(url);
            // Each wants a change (a role the account does not have now): different roles, or the same new role for
            // both, which two inserts of one row must not turn into a 500.
            var current = await RolesAsync(email);
            var candidates = new[] { "support", "auditor", "ops" }.Except(current).ToArray();
            var (firstRole, secondRole) = i % 2 == 0 ? (candidates[0], candidates[1]) : (candidates[1], candidates[1]);

            var saves = await Task.WhenAll(
                Task.Run(() => first.SubmitAsync($"{url}?handler=Roles", firstPage, ("roleNames", firstRole), ("ConcurrencyStamp", Hidden(firstPage, "ConcurrencyStamp")))),
                Task.Run(() => second.SubmitAsync($"{url}?handler=Roles", secondPage, ("roleNames", secondRole), ("ConcurrencyStamp", Hidden(secondPage, "ConcurrencyStamp")))));

            var results = (await Task.WhenAll(saves.Select(s => s.Content.ReadAsStringAsync()))).Select(Browser.Result).ToArray();
            saves.ShouldAllBe(s => s.StatusCode == HttpStatusCode.OK);
            var winner = Array.IndexOf(results, "The roles are saved.");
            winner.ShouldBeGreaterThanOrEqualTo(0, $"iteration {i}: {string.Join(" | ", results)}");
            results[1 - winner].ShouldBe(AuthServer.Pages.Admin.Users.DetailsModel.ChangedMeanwhile, $"iteration {i}");
            // Exactly the winner's roles: the loser's save did not undo it or mix with it.
            (await RolesAsync(email)).ShouldBe([winner == 0 ? firstRole : secondRole], $"iteration {i}");
        }
        (await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.UserRolesChanged && e.UserId == userId)).Count.ShouldBe(6);
    }

    [Fact]
    public async Task A_roles_form_filled_in_before_another_change_of_the_account_is_refused_and_the_change_stands()
    {
        var admin = await AdminPages.AdminAsync(factory);
        var other = await AdminPages.AdminAsync(factory);
        var (email, _) = await PhoneApp.NewAccountAsync(factory, "roles-stale");
        var url = $"/admin/users/{await UserIdAsync(email)}";
        await CreateRoleAsync("support");
        var stale = await admin.GetStringAsync(url);

        var first = await other.OpenAndSubmitAsync(url, $"{url}?handler=Roles", ("roleNames", "admin"), ("ConcurrencyStamp", Hidden(stale, "ConcurrencyStamp")));
        var refused = await admin.SubmitAsync($"{url}?handler=Roles", stale, ("roleNames", "support"), ("ConcurrencyStamp", Hidden(stale, "ConcurrencyStamp")));
        var refusedHtml = await refused.Content.ReadAsStringAsync();

        Browser.Result(first.Html).ShouldBe("The roles are saved.");
        refused.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(refusedHtml).ShouldBe(AuthServer.Pages.Admin.Users.DetailsModel.ChangedMeanwhile);
        refusedHtml.ShouldContain("<dt>Roles</dt><dd>admin</dd>");
        (await RolesAsync(email)).ShouldBe(["admin"]);

        // Having seen the change, the admin saves again against the account as it is now.
        var again = await admin.SubmitAsync($"{url}?handler=Roles", refusedHtml, ("roleNames", "support"), ("ConcurrencyStamp", Hidden(refusedHtml, "ConcurrencyStamp")));
        Browser.Result(await again.Content.ReadAsStringAsync()).ShouldBe("The roles are saved.");
        (await RolesAsync(email)).ShouldBe(["support"]);

        // A form without the stamp is refused the same way: it cannot say which version it was filled in from.
        var unstamped = await admin.OpenAndSubmitAsync(url, $"{url}?handler=Roles", ("roleNames", "admin"));
        Browser.Result(unstamped.Html).ShouldBe(AuthServer.Pages.Admin.Users.DetailsModel.ChangedMeanwhile);
        (await RolesAsync(email)).ShouldBe(["support"]);
    }

    private async Task<string> UserIdAsync(string email)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByEmailAsync(email))!.Id;
    }

    private async Task<List<string>> RolesAsync(string email)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return [.. (await users.GetRolesAsync((await users.FindByEmailAsync(email))!)).Order(StringComparer.Ordinal)];
    }

    private async Task CreateRoleAsync(string name)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(name)) (await roles.CreateAsync(new IdentityRole(name))).Succeeded.ShouldBeTrue();
    }
}
