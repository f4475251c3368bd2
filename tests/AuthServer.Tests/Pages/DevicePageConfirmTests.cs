using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Pages;

/// <summary>The verification page's confirm design: the question first, the raw user agent under Details, Deny as prominent.</summary>
public sealed class DevicePageConfirmTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private const string EdgeOnWindows =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";

    private async Task<string> ConsentPageAsync(string? userAgent, string? deviceName)
    {
        var device = factory.CreateClient();
        device.DefaultRequestHeaders.UserAgent.Clear();
        if (userAgent is not null) device.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", userAgent);
        var started = await device.StartAsync(deviceName: deviceName);
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();
        return await phone.OpenVerificationAsync(started.Get("user_code"));
    }

    [Fact]
    public async Task The_page_leads_with_the_question_in_the_requesters_browser_and_system()
    {
        var page = await ConsentPageAsync(EdgeOnWindows, "Office PC");

        page.ShouldContain("<h1 class=\"question\" data-testid=\"question\">Sign in on Edge on Windows?</h1>");
        page.IndexOf("Sign in on Edge on Windows?", StringComparison.Ordinal)
            .ShouldBeLessThan(page.IndexOf("Office PC", StringComparison.Ordinal));
        // The raw agent is under the Details disclosure, the time as a machine-readable UTC instant for local display.
        var details = page[page.IndexOf("<details", StringComparison.Ordinal)..page.IndexOf("</details>", StringComparison.Ordinal)];
        details.ShouldContain("<summary>Details</summary>");
        details.ShouldContain(EdgeOnWindows);
        page.ShouldContain("<time data-local-time datetime=\"");
        page.ShouldContain("/js/local-time.js");
        // Deny and Approve sit side by side in one decision row, Deny first.
        var decision = page[page.IndexOf("class=\"decision\"", StringComparison.Ordinal)..];
        decision.IndexOf("class=\"deny\"", StringComparison.Ordinal).ShouldBeLessThan(decision.IndexOf("class=\"approve\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_recognisable_agent_the_question_names_the_device()
    {
        var page = await ConsentPageAsync("DemoTV/1.0 (living room)", "Living room TV");

        page.ShouldContain("Sign in on Living room TV?");
    }

    [Fact]
    public async Task Without_an_agent_or_a_name_the_question_is_generic()
    {
        var page = await ConsentPageAsync(null, null);

        page.ShouldContain("Sign in on another device?");
        page.ShouldContain("unnamed");
    }

    [Fact]
    public async Task The_qr_page_tells_phones_with_and_without_the_app_what_to_do()
    {
        var response = await factory.CreateClient().GetAsync("/");
        var page = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.ShouldContain("Scan with your phone's camera, or open <a href=\"/phone/\">AuthServer on your phone</a> → Scan.");
    }
}
