using System.Net;
using AuthServer.Data;
using AuthServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Pages;

/// <summary>The sign-up page, served only when <c>AuthServer:AllowSelfRegistration</c> is on.</summary>
public sealed class RegisterPageTests
{
    private static AuthServerFactory Open() => AuthServerFactory.With(new() { ["AuthServer:AllowSelfRegistration"] = "true" });

    private static async Task<HttpResponseMessage> RegisterAsync(HttpClient browser, string email, string password, string again, string? returnUrl = null)
    {
        var page = await browser.GetStringAsync("/Identity/Account/Register");
        var form = new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = again,
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        };
        if (returnUrl is not null) form["ReturnUrl"] = returnUrl;
        return await browser.PostAsync("/Identity/Account/Register", new FormUrlEncodedContent(form));
    }

    [Fact]
    public async Task A_new_account_is_created_signed_in_and_audited_and_can_sign_in_again_with_its_password()
    {
        using var factory = Open();
        var browser = factory.CreateBrowser();
        (await browser.GetStringAsync("/Identity/Account/Login")).ShouldContain("data-testid=\"register-link\"");

        var response = await RegisterAsync(browser, "new.person@example.com", "New-Password-1", "New-Password-1", returnUrl: "/device");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/device");
        (await browser.IsSignedInAsync()).ShouldBeTrue();
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            var user = await db.Users.SingleAsync(u => u.Email == "new.person@example.com");
            var audit = await db.AuditEvents.SingleAsync(e => e.Type == Audit.AccountRegistered);
            audit.UserId.ShouldBe(user.Id);
            audit.ActorName.ShouldBe("new.person@example.com");
        }
        var again = factory.CreateBrowser();
        await again.SignInAsync("new.person@example.com", "New-Password-1");
        (await again.IsSignedInAsync()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_taken_email_a_weak_password_or_two_different_passwords_create_nothing_and_say_why()
    {
        using var factory = Open();
        var browser = factory.CreateBrowser();

        var taken = await RegisterAsync(browser, AuthServerFactory.DemoEmail, "New-Password-1", "New-Password-1");
        var weak = await RegisterAsync(browser, "weak@example.com", "short", "short");
        var different = await RegisterAsync(browser, "different@example.com", "New-Password-1", "New-Password-2");

        taken.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await taken.Content.ReadAsStringAsync()).ShouldContain("is already taken");
        weak.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await weak.Content.ReadAsStringAsync()).ShouldContain("Passwords must be at least 10 characters");
        different.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await different.Content.ReadAsStringAsync()).ShouldContain("The two passwords are not the same.");
        (await browser.IsSignedInAsync()).ShouldBeFalse();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        (await db.Users.CountAsync(u => u.Email == "weak@example.com" || u.Email == "different@example.com")).ShouldBe(0);
        (await db.AuditEvents.CountAsync(e => e.Type == Audit.AccountRegistered)).ShouldBe(0);
    }

    [Fact]
    public async Task An_offsite_return_url_goes_home_instead()
    {
        using var factory = Open();
        var browser = factory.CreateBrowser();

        var response = await RegisterAsync(browser, "offsite@example.com", "New-Password-1", "New-Password-1", returnUrl: "https://evil.example/");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/");
    }

    [Fact]
    public async Task Off_by_default_the_page_is_not_found_for_a_post_too_and_the_sign_in_page_does_not_offer_it()
    {
        using var factory = new AuthServerFactory();
        var browser = factory.CreateBrowser();
        var login = await browser.GetStringAsync("/Identity/Account/Login");

        var response = await browser.PostAsync("/Identity/Account/Register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = "sneaky@example.com",
            ["Input.Password"] = "New-Password-1",
            ["Input.ConfirmPassword"] = "New-Password-1",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(login),
        }));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        login.ShouldNotContain("register-link");
        await using var scope = factory.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<AuthServerDbContext>().Users.CountAsync(u => u.Email == "sneaky@example.com")).ShouldBe(0);
    }
}
