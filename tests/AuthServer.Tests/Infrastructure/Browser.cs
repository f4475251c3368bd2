using System.Net;
using System.Text.RegularExpressions;

namespace AuthServer.Tests.Infrastructure;

/// <summary>Drives the real Identity and verification pages over HTTP: cookies, antiforgery tokens and all.</summary>
public static partial class Browser
{
    /// <summary>Signed in: the verification page opens. Signed out: it sends the browser to the sign-in page.</summary>
    public static async Task<bool> IsSignedInAsync(this HttpClient browser)
    {
        var response = await browser.GetAsync("/device");
        if (response.StatusCode == HttpStatusCode.OK) return true;
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login");
        return false;
    }

    public static async Task SignInAsync(this HttpClient browser, string email = AuthServerFactory.DemoEmail, string password = AuthServerFactory.DemoPassword)
    {
        var page = await browser.GetStringAsync("/Identity/Account/Login");
        var response = await browser.PostAsync("/Identity/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.RememberMe"] = "false",
            ["__RequestVerificationToken"] = AntiforgeryToken(page),
        }));
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, "sign-in should redirect on success");
    }

    public static Task SignInAsync(this HttpClient browser, (string Email, string Password) account) =>
        browser.SignInAsync(account.Email, account.Password);

    /// <summary>Opens the consent page for a user code (the "scan"), returning its HTML.</summary>
    public static async Task<string> OpenVerificationAsync(this HttpClient browser, string userCode)
    {
        var response = await browser.GetAsync($"/device?user_code={Uri.EscapeDataString(userCode)}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Presses Approve or Deny on a consent page already opened, returning the resulting HTML.</summary>
    public static async Task<string> DecideAsync(this HttpClient browser, string consentPage, string userCode, bool approve)
    {
        var response = await browser.PostAsync($"/device?handler={(approve ? "Approve" : "Deny")}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user_code"] = userCode,
            ["__RequestVerificationToken"] = AntiforgeryToken(consentPage),
        }));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Signs in (once per client), scans and decides: the whole phone side of the flow.</summary>
    public static async Task<string> ScanAndDecideAsync(this HttpClient browser, string userCode, bool approve)
    {
        var page = await browser.OpenVerificationAsync(userCode);
        return await browser.DecideAsync(page, userCode, approve);
    }

    public static string AntiforgeryToken(string html) =>
        WebUtility.HtmlDecode(AntiforgeryField().Match(html) is { Success: true } m ? m.Groups[1].Value
            : throw new ShouldAssertException("no antiforgery token on the page"));

    /// <summary>The text of the element marked <c>data-testid="result"</c>.</summary>
    public static string Result(string html) =>
        WebUtility.HtmlDecode(ResultElement().Match(html) is { Success: true } m ? m.Groups[1].Value.Trim() : "");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("data-testid=\"result\">([^<]*)<")]
    private static partial Regex ResultElement();
}
