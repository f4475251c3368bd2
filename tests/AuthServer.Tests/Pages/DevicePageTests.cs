using Microsoft.Extensions.DependencyInjection;
using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Pages;

public abstract class DevicePageTests(AuthServerFactory factory)
{
    public sealed class OnSqlite(AuthServerFactory server) : DevicePageTests(server), IClassFixture<AuthServerFactory>;

    public sealed class OnPostgreSql(PostgreSqlAuthServerFactory server) : DevicePageTests(server), IClassFixture<PostgreSqlAuthServerFactory>;

    private readonly HttpClient _device = factory.CreateClient();

    private async Task<HttpClient> SignedInPhoneAsync(string email = AuthServerFactory.DemoEmail, string password = AuthServerFactory.DemoPassword)
    {
        var phone = factory.CreateBrowser();
        await phone.SignInAsync(email, password);
        return phone;
    }

    [Fact]
    public async Task The_verification_page_asks_a_signed_out_user_to_sign_in_and_comes_back()
    {
        var started = await _device.StartAsync();
        var link = new Uri(started.Get("verification_uri_complete")).PathAndQuery;

        var response = await factory.CreateBrowser().GetAsync(link);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var location = response.Headers.Location!.ToString();
        location.ShouldContain("/Identity/Account/Login");
        WebUtility.UrlDecode(location).ShouldContain($"ReturnUrl={link}");
    }

    [Fact]
    public async Task The_consent_page_shows_who_is_asking_and_offers_approve_and_deny()
    {
        var started = await _device.StartAsync(deviceName: "Kitchen <b>TV</b>");
        var phone = await SignedInPhoneAsync();

        var page = await phone.OpenVerificationAsync(started.Get("user_code"));

        page.ShouldContain("Demo TV");
        page.ShouldContain("Kitchen &lt;b&gt;TV&lt;/b&gt;"); // self-reported, so encoded, never markup
        page.ShouldContain("as reported by the device");
        page.ShouldContain(started.Get("user_code"));
        page.ShouldContain("just now");
        page.ShouldContain("Use the API on your behalf");
        page.ShouldContain("Stay signed in on this device");
        page.ShouldContain("handler=Deny");
        page.ShouldContain("handler=Approve");
    }

    [Fact]
    public async Task Login_and_consent_pages_cannot_be_framed()
    {
        var started = await _device.StartAsync();
        var phone = await SignedInPhoneAsync();

        var consent = await phone.GetAsync($"/device?user_code={started.Get("user_code")}");
        var login = await factory.CreateBrowser().GetAsync("/Identity/Account/Login");

        foreach (var response in new[] { consent, login })
        {
            response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().ShouldContain("frame-ancestors 'none'");
            response.Headers.GetValues("X-Frame-Options").ShouldContain("DENY");
        }
    }

    [Fact]
    public async Task A_code_typed_by_hand_in_lower_case_with_spaces_works()
    {
        var started = await _device.StartAsync();
        var typed = " " + started.Get("user_code").Replace("-", " ").ToLowerInvariant() + " ";
        var phone = await SignedInPhoneAsync();

        var page = await phone.OpenVerificationAsync(typed);
        var result = await phone.DecideAsync(page, typed, approve: true);

        Browser.Result(result).ShouldContain("is now signed in");
        (await _device.PollAsync(started.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Approving_through_the_page_signs_the_device_in()
    {
        var started = await _device.StartAsync();
        var phone = await SignedInPhoneAsync();

        var result = await phone.ScanAndDecideAsync(started.Get("user_code"), approve: true);

        Browser.Result(result).ShouldBe("Living room TV is now signed in. You can return to it.");
        (await _device.PollAsync(started.Get("device_code"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Denying_through_the_page_refuses_the_device()
    {
        var started = await _device.StartAsync();
        var phone = await SignedInPhoneAsync();

        var result = await phone.ScanAndDecideAsync(started.Get("user_code"), approve: false);

        Browser.Result(result).ShouldBe("Living room TV will not be signed in.");
        (await _device.PollAsync(started.Get("device_code"))).Error.ShouldBe("access_denied");
    }

    [Fact]
    public async Task A_decision_without_the_antiforgery_token_is_rejected()
    {
        var started = await _device.StartAsync();
        var phone = await SignedInPhoneAsync();
        await phone.OpenVerificationAsync(started.Get("user_code"));

        var response = await phone.PostAsync("/device?handler=Approve",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["user_code"] = started.Get("user_code") }));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await _device.PollAsync(started.Get("device_code"))).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task The_first_account_to_open_the_code_claims_it_and_nobody_else_can_approve()
    {
        using var scope = factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AuthServer.Data.Entities.ApplicationUser>>();
        const string intruder = "intruder@example.com";
        if (await users.FindByEmailAsync(intruder) is null)
            (await users.CreateAsync(new() { UserName = intruder, Email = intruder }, "Intruder-Password-1")).Succeeded.ShouldBeTrue();

        var started = await _device.StartAsync();
        var owner = await SignedInPhoneAsync();
        var other = await SignedInPhoneAsync(intruder, "Intruder-Password-1");

        await owner.OpenVerificationAsync(started.Get("user_code"));
        var otherPage = await other.OpenVerificationAsync(started.Get("user_code"));
        Browser.Result(otherPage).ShouldContain("Another account has already opened this code");

        // Even a forged approval from the other account (with a valid antiforgery token of its own) does nothing.
        var pageWithToken = await other.GetStringAsync("/Identity/Account/Login");
        var forged = await other.DecideAsync(pageWithToken, started.Get("user_code"), approve: true);
        Browser.Result(forged).ShouldContain("Another account has already opened this code");
        (await _device.PollAsync(started.Get("device_code"))).Error.ShouldBe("authorization_pending");
    }

    [Fact]
    public async Task An_unknown_code_gets_a_friendly_message()
    {
        var phone = await SignedInPhoneAsync();

        var page = await phone.OpenVerificationAsync("BCDF-GHJK");

        Browser.Result(page).ShouldContain("That code is not valid");
    }

    [Fact]
    public async Task A_malformed_code_gets_a_friendly_message()
    {
        var phone = await SignedInPhoneAsync();

        var page = await phone.OpenVerificationAsync("<script>alert(1)</script>");

        Browser.Result(page).ShouldContain("That code is not valid");
        page.ShouldNotContain("<script>alert(1)</script>");
    }

    [Fact]
    public async Task An_expired_code_gets_a_friendly_message()
    {
        var started = await _device.StartAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(5));
        var phone = await SignedInPhoneAsync();

        var page = await phone.OpenVerificationAsync(started.Get("user_code"));

        Browser.Result(page).ShouldContain("This code has expired");
    }

    [Fact]
    public async Task A_used_code_gets_a_friendly_message()
    {
        var started = await _device.StartAsync();
        var phone = await SignedInPhoneAsync();
        await phone.ScanAndDecideAsync(started.Get("user_code"), approve: true);

        var page = await phone.OpenVerificationAsync(started.Get("user_code"));

        Browser.Result(page).ShouldContain("already been used");
    }

    [Fact]
    public async Task Approving_after_expiry_explains_that_the_code_expired()
    {
        var started = await _device.StartAsync();
        var phone = await SignedInPhoneAsync();
        var page = await phone.OpenVerificationAsync(started.Get("user_code"));
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        var result = await phone.DecideAsync(page, started.Get("user_code"), approve: true);

        Browser.Result(result).ShouldContain("This code has expired");
        (await _device.PollAsync(started.Get("device_code"))).Error.ShouldBe("expired_token");
    }

    [Fact]
    public async Task The_enter_code_page_has_a_form()
    {
        var phone = await SignedInPhoneAsync();

        var page = await phone.GetStringAsync("/device");

        page.ShouldContain("name=\"user_code\"");
        Browser.Result(page).ShouldBeEmpty();
    }

    [Fact]
    public async Task Self_registration_is_off_by_default()
    {
        var response = await factory.CreateBrowser().GetAsync("/Identity/Account/Register");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
