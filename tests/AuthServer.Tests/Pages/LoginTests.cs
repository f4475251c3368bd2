using System.Net;
using System.Text.RegularExpressions;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Pages;

public sealed partial class LoginTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private const string LoginPath = "/Identity/Account/Login";
    private const string Password = "Fresh-Password-1";
    private const string WrongCredentials = "The email or password is not correct.";
    private const string LockedOut = "Too many failed attempts. This account is locked for a while; try again later.";

    /// <summary>A user of this test only, so wrong passwords never count against the demo user.</summary>
    private async Task<string> NewUserAsync() => (await PhoneApp.NewAccountAsync(factory, "login", Password)).Email;

    /// <summary>Fills in and submits the real sign-in page, antiforgery token and all.</summary>
    internal static async Task<HttpResponseMessage> SubmitAsync(HttpClient browser, string email, string password, string? returnUrl = null)
    {
        var path = returnUrl is null ? LoginPath : $"{LoginPath}?ReturnUrl={Uri.EscapeDataString(returnUrl)}";
        var page = await browser.GetStringAsync(path);
        var form = new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.RememberMe"] = "false",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        };
        if (returnUrl is not null) form["ReturnUrl"] = returnUrl;
        return await browser.PostAsync(path, new FormUrlEncodedContent(form));
    }

    private static async Task<string> ProblemAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        return ProblemElement().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value.Trim()) : "";
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_message_that_names_neither_field()
    {
        var email = await NewUserAsync();
        var browser = factory.CreateBrowser();

        var response = await SubmitAsync(browser, email, "Wrong-Password-1");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ProblemAsync(response)).ShouldBe(WrongCredentials);
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }

    [Fact]
    public async Task An_unknown_email_gets_the_same_message_as_a_wrong_password()
    {
        var browser = factory.CreateBrowser();

        var response = await SubmitAsync(browser, $"nobody-{Guid.NewGuid():N}@example.com", "Wrong-Password-1");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ProblemAsync(response)).ShouldBe(WrongCredentials);
        (await browser.IsSignedInAsync()).ShouldBeFalse();
    }

    [Fact]
    public async Task The_right_password_signs_in_and_returns_home()
    {
        var email = await NewUserAsync();
        var browser = factory.CreateBrowser();

        var response = await SubmitAsync(browser, email, Password);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task Four_wrong_passwords_do_not_lock_the_account()
    {
        var email = await NewUserAsync();
        var browser = factory.CreateBrowser();
        for (var i = 0; i < 4; i++)
            (await ProblemAsync(await SubmitAsync(browser, email, $"Wrong-Password-{i}"))).ShouldBe(WrongCredentials);

        var response = await SubmitAsync(browser, email, Password);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_so_the_right_one_is_refused()
    {
        var email = await NewUserAsync();
        var browser = factory.CreateBrowser();
        for (var i = 0; i < 4; i++)
            (await ProblemAsync(await SubmitAsync(browser, email, $"Wrong-Password-{i}"))).ShouldBe(WrongCredentials);
        // The fifth failure is the one that locks.
        (await ProblemAsync(await SubmitAsync(browser, email, "Wrong-Password-4"))).ShouldBe(LockedOut);

        var response = await SubmitAsync(browser, email, Password);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ProblemAsync(response)).ShouldBe(LockedOut);
        (await browser.IsSignedInAsync()).ShouldBeFalse();
        using var scope = factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        (await users.IsLockedOutAsync((await users.FindByEmailAsync(email))!)).ShouldBeTrue();
    }

    [Fact]
    public async Task A_locked_account_does_not_lock_anyone_else()
    {
        var locked = await NewUserAsync();
        var other = await NewUserAsync();
        var attacker = factory.CreateBrowser();
        for (var i = 0; i < 4; i++) await SubmitAsync(attacker, locked, $"Wrong-Password-{i}");
        // The fifth failure locks the targeted account: the rest of the test is about everyone else.
        (await ProblemAsync(await SubmitAsync(attacker, locked, "Wrong-Password-4"))).ShouldBe(LockedOut);

        var browser = factory.CreateBrowser();
        var response = await SubmitAsync(browser, other, Password);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task The_sign_in_page_cannot_be_framed()
    {
        var response = await factory.CreateBrowser().GetAsync(LoginPath);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().ShouldContain("frame-ancestors 'none'");
        response.Headers.GetValues("X-Frame-Options").ShouldContain("DENY");
        (await response.Content.ReadAsStringAsync()).ShouldContain("Sign in");
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task An_off_site_return_url_is_not_followed_after_signing_in(string returnUrl)
    {
        var email = await NewUserAsync();
        var browser = factory.CreateBrowser();

        var response = await SubmitAsync(browser, email, Password, returnUrl);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_local_return_url_is_followed_after_signing_in()
    {
        var email = await NewUserAsync();
        var browser = factory.CreateBrowser();

        var response = await SubmitAsync(browser, email, Password, "/device?user_code=ABCD-EFGH");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/device?user_code=ABCD-EFGH");
    }

    [GeneratedRegex("data-testid=\"login-problem\">([^<]*)<")]
    private static partial Regex ProblemElement();
}
