using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuthServer.Data;
using AuthServer.Tests.Data;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Pages.Admin;

/// <summary>The clients screen over HTTP: what it stores through OpenIddict, what the protocol then does with it.</summary>
public abstract class AdminClientsTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : AdminClientsTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : AdminClientsTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    internal const string DeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

    /// <summary>The create form's fields for a client; <paramref name="extra"/> adds or repeats fields.</summary>
    internal static (string, string)[] Form(string clientId, string type = "Public", string[]? grants = null, string[]? scopes = null,
        params (string, string)[] extra) =>
    [
        .. Defaults(clientId, type, grants, scopes).Where(d => !extra.Any(e => e.Item1 == d.Item1)),
        .. extra,
    ];

    private static (string, string)[] Defaults(string clientId, string type, string[]? grants, string[]? scopes) =>
    [
        ("Input.ClientId", clientId),
        ("Input.DisplayName", $"Client {clientId}"),
        ("Input.Type", type),
        .. (grants ?? [DeviceGrant, "refresh_token"]).Select(g => ("Input.GrantTypes", g)),
        .. (scopes ?? ["openid", "profile", "offline_access"]).Select(s => ("Input.Scopes", s)),
        ("Input.DeviceCodeLifetime", "00:05:00"),
        ("Input.PollInterval", "00:00:05"),
        ("Input.RefreshTokenIdleLifetime", "14.00:00:00"),
        ("Input.RefreshTokenAbsoluteLifetime", "30.00:00:00"),
    ];

    internal static async Task<string> CreateAsync(HttpClient admin, params (string, string)[] form)
    {
        var (response, html) = await admin.OpenAndSubmitAsync("/admin/clients/new", "/admin/clients/new", form);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AdminPages.TestId(html, "result").ShouldBe("The client is registered and can be used now.", html);
        return html;
    }

    [Fact]
    public async Task A_created_public_client_can_complete_a_device_login_at_once()
    {
        var admin = await AdminPages.AdminAsync(factory, remoteIp: "192.0.2.10");

        await CreateAsync(admin, Form("kiosk-hall", extra: [("Input.NumberMatching", "false"), ("Input.FirstParty", "false")]));
        var tokens = await factory.SignInDeviceAsync(scope: "openid profile offline_access", clientId: "kiosk-hall");

        tokens.Get("access_token").ShouldNotBeNullOrEmpty();
        (await admin.GetStringAsync("/admin/clients")).ShouldContain("Client kiosk-hall");
        var created = (await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.ClientCreated && e.ClientId == "kiosk-hall")).ShouldHaveSingleItem();
        created.ActorName.ShouldBe(AuthServerFactory.AdminEmail);
        created.Ip.ShouldBe("192.0.2.10");
        created.Detail.ShouldNotBeNull().ShouldContain("public client kiosk-hall");
    }

    [Fact]
    public async Task A_confidential_clients_secret_is_made_by_the_server_shown_once_and_works()
    {
        var admin = await AdminPages.AdminAsync(factory);

        var html = await CreateAsync(admin, Form("billing-service", type: "Confidential", grants: ["client_credentials"], scopes: ["api"]));
        var secret = AdminPages.TestId(html, "secret");

        secret.Length.ShouldBeGreaterThanOrEqualTo(43);
        (await factory.CreateClient().ClientCredentialsAsync("billing-service", secret)).Status.ShouldBe(HttpStatusCode.OK);
        (await factory.CreateClient().ClientCredentialsAsync("billing-service", secret + "x")).Error.ShouldBe("invalid_client");
        var edit = await admin.GetStringAsync("/admin/clients/edit/billing-service");
        edit.ShouldNotContain(secret);
        AdminPages.TestId(edit, "secret").ShouldBeEmpty();
        (await AuditLogTests.EventsAsync(factory, e => e.Detail?.Contains(secret) == true)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Invalid_input_is_shown_at_its_field_and_nothing_is_created()
    {
        var admin = await AdminPages.AdminAsync(factory);

        var (response, html) = await admin.OpenAndSubmitAsync("/admin/clients/new", "/admin/clients/new", Form("demo-tv",
            type: "Public", grants: [DeviceGrant, "client_credentials"],
            extra: [("Input.RedirectUris", "https://app.example/cb#fragment"), ("Input.AllowedCorsOrigins", "https://app.example/"),
                ("Input.LogoUri", "http://insecure.example/logo.png"), ("Input.AccessTokenLifetime", "10")]));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        AdminPages.FieldError(html, "Input.ClientId").ShouldBe("There is already a client 'demo-tv'.");
        AdminPages.FieldError(html, "Input.GrantTypes").ShouldBe("Client_credentials is for confidential clients only (RFC 6749 §4.4).");
        AdminPages.FieldError(html, "Input.RedirectUris").ShouldContain("is not an absolute URI without fragment");
        AdminPages.FieldError(html, "Input.AllowedCorsOrigins").ShouldContain("is not an origin");
        AdminPages.FieldError(html, "Input.LogoUri").ShouldBe("LogoUri must be an https URL.");
        AdminPages.FieldError(html, "Input.AccessTokenLifetime").ShouldBe("Write a time as hh:mm:ss, or d.hh:mm:ss for days.");
        // What the admin typed is still there to correct.
        html.ShouldContain("https://app.example/cb#fragment");
        AdminPages.TestId(html, "result").ShouldBeEmpty();
    }

    [Fact]
    public async Task A_rotated_secret_leaves_the_old_one_working_during_the_overlap_and_refused_after()
    {
        var admin = await AdminPages.AdminAsync(factory);
        var old = AdminPages.TestId(await CreateAsync(admin, Form("rotating-service", type: "Confidential", grants: ["client_credentials"], scopes: ["api"])), "secret");

        var (_, html) = await admin.OpenAndSubmitAsync("/admin/clients/edit/rotating-service", "/admin/clients/edit/rotating-service?handler=RotateSecret",
            ("Overlap", "01:00:00"));
        var fresh = AdminPages.TestId(html, "secret");

        fresh.ShouldNotBeNullOrEmpty();
        fresh.ShouldNotBe(old);
        var http = factory.CreateClient();
        (await http.ClientCredentialsAsync("rotating-service", old)).Status.ShouldBe(HttpStatusCode.OK);
        (await http.ClientCredentialsAsync("rotating-service", fresh)).Status.ShouldBe(HttpStatusCode.OK);
        factory.Clock.Advance(TimeSpan.FromMinutes(59));
        (await http.ClientCredentialsAsync("rotating-service", old)).Status.ShouldBe(HttpStatusCode.OK);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        (await http.ClientCredentialsAsync("rotating-service", old)).Error.ShouldBe("invalid_client");
        (await http.ClientCredentialsAsync("rotating-service", fresh)).Status.ShouldBe(HttpStatusCode.OK);
        (await AuditLogTests.EventsAsync(factory, e => e.Type == Audit.ClientSecretRotated && e.ClientId == "rotating-service")).ShouldHaveSingleItem()
            .ActorName.ShouldBe(AuthServerFactory.AdminEmail);
    }

    [Fact]
    public async Task Ending_the_overlap_early_refuses_the_old_secret_at_once()
    {
        var admin = await AdminPages.AdminAsync(factory);
        var old = AdminPages.TestId(await CreateAsync(admin, Form("early-service", type: "Confidential", grants: ["client_credentials"], scopes: ["api"])), "secret");
        var (_, rotated) = await admin.OpenAndSubmitAsync("/admin/clients/edit/early-service", "/admin/clients/edit/early-service?handler=RotateSecret",
            ("Overlap", "1.00:00:00"));

        var response = await admin.SubmitAsync("/admin/clients/edit/early-service?handler=RetireOldSecrets", rotated);

        AdminPages.TestId(await response.Content.ReadAsStringAsync(), "result").ShouldBe("The previous secrets no longer work.");
        (await factory.CreateClient().ClientCredentialsAsync("early-service", old)).Error.ShouldBe("invalid_client");
        (await factory.CreateClient().ClientCredentialsAsync("early-service", AdminPages.TestId(rotated, "secret"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_second_of_two_concurrent_saves_is_told_and_loses_nothing()
    {
        var first = await AdminPages.AdminAsync(factory);
        var second = await AdminPages.AdminAsync(factory);
        await CreateAsync(first, Form("shared-tv"));
        var url = "/admin/clients/edit/shared-tv";
        var firstPage = await first.GetStringAsync(url);
        var secondPage = await second.GetStringAsync(url);
        var token = TokenOf(firstPage);

        var saved = await first.SubmitAsync($"{url}?handler=Save", firstPage, [("ConcurrencyToken", token), .. Form("shared-tv",
            extra: [("Input.DisplayName", "Hall TV")])]);
        var refused = await second.SubmitAsync($"{url}?handler=Save", secondPage, [("ConcurrencyToken", TokenOf(secondPage)), .. Form("shared-tv",
            extra: [("Input.DisplayName", "Lobby TV"), ("Input.PollInterval", "00:00:09")])]);
        var refusedHtml = await refused.Content.ReadAsStringAsync();

        AdminPages.TestId(await saved.Content.ReadAsStringAsync(), "result").ShouldBe("Saved.");
        refused.StatusCode.ShouldBe(HttpStatusCode.OK);
        AdminPages.TestId(refusedHtml, "problem").ShouldStartWith("Someone else saved this client while you were editing it");
        refusedHtml.ShouldContain("<td class=\"theirs\">Hall TV</td><td>Lobby TV</td>");
        refusedHtml.ShouldContain("value=\"00:00:09\"");          // the second admin's input is still in the form
        (await first.GetStringAsync(url)).ShouldContain("value=\"Hall TV\""); // the first save stands

        // Saving again, having seen the difference, overwrites on purpose.
        var again = await second.SubmitAsync($"{url}?handler=Save", refusedHtml, [("ConcurrencyToken", TokenOf(refusedHtml)), .. Form("shared-tv",
            extra: [("Input.DisplayName", "Lobby TV"), ("Input.PollInterval", "00:00:09")])]);
        AdminPages.TestId(await again.Content.ReadAsStringAsync(), "result").ShouldBe("Saved.");
        var started = await factory.CreateClient().StartAsync("shared-tv", "openid");
        started.Json.GetProperty("interval").GetInt32().ShouldBe(9);
    }

    [Fact]
    public async Task A_disabled_client_is_refused_everywhere_until_it_is_enabled()
    {
        var admin = await AdminPages.AdminAsync(factory);
        await CreateAsync(admin, Form("seasonal-tv"));
        var url = "/admin/clients/edit/seasonal-tv";

        var disabled = await admin.SubmitAsync($"{url}?handler=Disable", await admin.GetStringAsync(url), ("ConcurrencyToken", ""));
        AdminPages.TestId(await disabled.Content.ReadAsStringAsync(), "result").ShouldStartWith("Disabled.");
        var refused = await factory.CreateClient().StartAsync("seasonal-tv", "openid");
        refused.Error.ShouldBe("unauthorized_client");

        var enabled = await admin.SubmitAsync($"{url}?handler=Enable", await admin.GetStringAsync(url), ("ConcurrencyToken", ""));
        AdminPages.TestId(await enabled.Content.ReadAsStringAsync(), "result").ShouldBe("Enabled.");
        (await factory.CreateClient().StartAsync("seasonal-tv", "openid")).Status.ShouldBe(HttpStatusCode.OK);
        (await AuditLogTests.EventsAsync(factory, e => e.ClientId == "seasonal-tv" && e.Type != Audit.ClientCreated))
            .Select(e => e.Type).ShouldBe([Audit.ClientDisabled, Audit.ClientEnabled]);
    }

    [Fact]
    public async Task Deleting_a_client_unregisters_it_but_a_configured_one_cannot_be_deleted_here()
    {
        var admin = await AdminPages.AdminAsync(factory);
        await CreateAsync(admin, Form("short-lived"));

        var deleted = await admin.OpenAndSubmitAsync("/admin/clients/edit/short-lived", "/admin/clients/edit/short-lived?handler=Delete",
            ("ConfirmDelete", "short-lived"));
        var configured = await admin.OpenAndSubmitAsync("/admin/clients/edit/demo-tv", "/admin/clients/edit/demo-tv?handler=Delete",
            ("ConfirmDelete", "demo-tv"));

        deleted.Response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        AdminPages.TestId(await admin.GetStringAsync(deleted.Response.Headers.Location!.ToString()), "result").ShouldBe("Client short-lived is deleted.");
        (await factory.CreateClient().StartAsync("short-lived", "openid")).Error.ShouldBe("invalid_client");
        (await admin.GetAsync("/admin/clients/edit/short-lived")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        AdminPages.TestId(configured.Html, "problem").ShouldStartWith("This client is declared in appsettings.json");
        (await factory.CreateClient().StartAsync()).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_configured_clients_page_says_so_and_offers_no_secret_rotation()
    {
        var admin = await AdminPages.AdminAsync(factory);

        var page = await admin.GetStringAsync($"/admin/clients/edit/{AuthServerFactory.SecretClientId}");
        var rotate = await admin.SubmitAsync($"/admin/clients/edit/{AuthServerFactory.SecretClientId}?handler=RotateSecret", page, ("Overlap", "01:00:00"));

        AdminPages.TestId(page, "configured").ShouldBe("configured");
        page.ShouldContain("the next start-up registers it from the");
        page.ShouldNotContain("data-testid=\"rotate-secret\"");
        AdminPages.TestId(await rotate.Content.ReadAsStringAsync(), "problem").ShouldStartWith("This client's secrets are in appsettings.json");
    }

    private static string TokenOf(string html) =>
        System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "name=\"ConcurrencyToken\" value=\"([^\"]*)\"").Groups[1].Value);
}
