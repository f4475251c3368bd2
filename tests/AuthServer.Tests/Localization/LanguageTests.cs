using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Localization;

public sealed class LanguageTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private static HttpRequestMessage Get(string path, string? acceptLanguage)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        if (acceptLanguage is not null) request.Headers.AcceptLanguage.ParseAdd(acceptLanguage);
        return request;
    }

    [Fact]
    public async Task Without_accept_language_the_home_page_is_english()
    {
        var response = await factory.CreateBrowser().SendAsync(Get("/", null));
        var page = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.ShouldContain("<html lang=\"en\">");
        page.ShouldContain("<h1>Sign in with your phone</h1>");
    }

    [Theory]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8")]
    [InlineData("zh")]
    [InlineData("zh-Hans-CN")]
    [InlineData("fr-FR, zh-SG;q=0.7")]
    public async Task Simplified_chinese_in_accept_language_shows_the_pages_in_chinese(string acceptLanguage)
    {
        var response = await factory.CreateBrowser().SendAsync(Get("/", acceptLanguage));
        var page = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.ShouldContain("<html lang=\"zh-CN\">");
        page.ShouldContain("<h1>扫码登录</h1>");
        page.ShouldContain("或输入此代码");
    }

    [Theory]
    [InlineData("zh-TW")]
    [InlineData("en-GB,zh;q=0.5")]
    public async Task Traditional_chinese_or_a_preferred_english_stays_english(string acceptLanguage)
    {
        var page = await (await factory.CreateBrowser().SendAsync(Get("/Identity/Account/Login", acceptLanguage))).Content.ReadAsStringAsync();

        page.ShouldContain("<h2>With your password</h2>");
    }

    [Fact]
    public async Task The_switch_remembers_the_choice_in_the_culture_cookie_over_accept_language()
    {
        var browser = factory.CreateBrowser();
        var home = await (await browser.SendAsync(Get("/", "en-US"))).Content.ReadAsStringAsync();
        home.ShouldContain("data-testid=\"language-zh-CN\"");

        var switched = await browser.PostAsync("/language", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["culture"] = "zh-CN",
            ["returnUrl"] = "/device",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(home),
        }));

        switched.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        switched.Headers.Location!.OriginalString.ShouldBe("/device");
        var cookie = switched.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Culture=", StringComparison.Ordinal));
        cookie.ShouldContain("c%3Dzh-CN%7Cuic%3Dzh-CN");
        cookie.ShouldNotContain("httponly", Case.Insensitive);
        var after = await (await browser.SendAsync(Get("/", "en-US"))).Content.ReadAsStringAsync();
        after.ShouldContain("<h1>扫码登录</h1>");
        after.ShouldContain("data-testid=\"language-en\"");
    }

    [Fact]
    public async Task The_switch_refuses_a_language_it_does_not_have_and_an_offsite_return_url()
    {
        var browser = factory.CreateBrowser();
        var home = await browser.GetStringAsync("/");
        FormUrlEncodedContent Form(string culture, string returnUrl) => new(new Dictionary<string, string>
        {
            ["culture"] = culture, ["returnUrl"] = returnUrl, ["__RequestVerificationToken"] = Browser.AntiforgeryToken(home),
        });

        var unknown = await browser.PostAsync("/language", Form("fr", "/"));
        var offsite = await browser.PostAsync("/language", Form("en", "https://evil.example/"));

        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        unknown.Headers.Contains("Set-Cookie").ShouldBeFalse();
        offsite.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        offsite.Headers.Location!.OriginalString.ShouldBe("/");
    }

    [Fact]
    public async Task Protocol_error_descriptions_stay_english_for_a_chinese_client()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "nonsense", ["client_id"] = "tv" }),
        };
        request.Headers.AcceptLanguage.ParseAdd("zh-CN");

        var response = await factory.CreateClient().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        body.ShouldContain("\"error\":\"unsupported_grant_type\"");
        body.ShouldContain("The specified 'grant_type' is not supported.");
    }
}
