using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AuthServer.Tests.Pages;

public sealed class LinkedDevicesPageTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    [Fact]
    public async Task The_page_lists_signed_in_devices_and_logging_one_out_ends_its_session()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;
        var browser = factory.CreateBrowser();
        await browser.SignInAsync();

        var page = await browser.GetStringAsync("/account/devices");
        page.ShouldContain("Living room TV");
        page.ShouldContain("via Demo TV");
        page.ShouldContain($"value=\"{deviceId}\"");

        var response = await browser.PostAsync("/account/devices?handler=LogOut", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["id"] = deviceId,
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        }));
        var after = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(after).ShouldContain("Living room TV is logged out");
        after.ShouldNotContain($"value=\"{deviceId}\"");
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Error.ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Another_accounts_device_cannot_be_logged_out_from_here()
    {
        var tokens = await factory.SignInDeviceAsync();
        var deviceId = new JsonWebToken(tokens.Get("access_token")).GetClaim("device_id").Value;
        using (var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(factory.Services))
        {
            var users = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
                .GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AuthServer.Data.Entities.ApplicationUser>>(scope.ServiceProvider);
            if (await users.FindByEmailAsync("other-devices@example.com") is null)
                (await users.CreateAsync(new() { UserName = "other-devices@example.com", Email = "other-devices@example.com" }, "Other-Password-1")).Succeeded.ShouldBeTrue();
        }
        var other = factory.CreateBrowser();
        await other.SignInAsync("other-devices@example.com", "Other-Password-1");
        (await other.GetStringAsync("/account/devices")).ShouldContain("No device is signed in");
        var page = await other.GetStringAsync("/Identity/Account/Login"); // any form of this session carries a token

        var response = await other.PostAsync("/account/devices?handler=LogOut", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["id"] = deviceId,
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        }));

        Browser.Result(await response.Content.ReadAsStringAsync()).ShouldBeEmpty();
        (await factory.CreateClient().RefreshAsync(tokens.Get("refresh_token"))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_page_needs_a_signed_in_user()
    {
        var response = await factory.CreateBrowser().GetAsync("/account/devices");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login");
    }
}
