using System.Net;
using AuthServer.Hosting;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Pages;

/// <summary>
/// Signing in and out on the server's clock: Identity's lockout after wrong passwords, and a sign-out that rotates the
/// security stamp, so a copied session cookie dies with it.
/// </summary>
public sealed class SessionEndTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    /// <summary>A browser without a cookie jar: the test holds the cookies, so it can copy them.</summary>
    private sealed class Jar(HttpClient http)
    {
        private readonly Dictionary<string, string> _cookies = [];

        public string? Cookie(string name) => _cookies.GetValueOrDefault(name);

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Dictionary<string, string>? form = null, string? cookieHeader = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = form is null ? null : new FormUrlEncodedContent(form) };
            var cookies = cookieHeader ?? string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}"));
            if (cookies.Length > 0) request.Headers.Add("Cookie", cookies);
            var response = await http.SendAsync(request);
            foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                var pair = header.Split(';')[0];
                var at = pair.IndexOf('=');
                var (name, value) = (pair[..at], pair[(at + 1)..]);
                if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase)) _cookies.Remove(name);
                else _cookies[name] = value;
            }
            return response;
        }
    }

    private Jar NewJar() => new(factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = false,
    }));

    private static async Task<HttpResponseMessage> SignInAsync(Jar jar, string email, string password)
    {
        var page = await (await jar.SendAsync(HttpMethod.Get, "/Identity/Account/Login")).Content.ReadAsStringAsync();
        return await jar.SendAsync(HttpMethod.Post, "/Identity/Account/Login", new()
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.RememberMe"] = "false",
            ["__RequestVerificationToken"] = Browser.AntiforgeryToken(page),
        });
    }

    [Fact]
    public async Task A_copied_session_cookie_stops_working_once_its_owner_signs_out()
    {
        var (email, password) = await PhoneApp.NewAccountAsync(factory, "signout");
        var jar = NewJar();
        (await SignInAsync(jar, email, password)).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var copy = $"authserver.session={jar.Cookie("authserver.session").ShouldNotBeNull()}";
        (await jar.SendAsync(HttpMethod.Get, "/account/devices", cookieHeader: copy)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var confirm = await (await jar.SendAsync(HttpMethod.Get, "/connect/endsession")).Content.ReadAsStringAsync();
        var signedOut = await jar.SendAsync(HttpMethod.Post, "/connect/endsession",
            new() { ["confirm"] = "yes", ["__RequestVerificationToken"] = Browser.AntiforgeryToken(confirm) });
        signedOut.StatusCode.ShouldBe(HttpStatusCode.OK);
        Browser.Result(await signedOut.Content.ReadAsStringAsync()).ShouldBe("You are signed out.");

        // Identity checks a cookie's security stamp once per interval; after it, the copy meets the new stamp.
        factory.Clock.Advance(AdminAccess.SessionCheckInterval + TimeSpan.FromSeconds(1));
        var refused = await jar.SendAsync(HttpMethod.Get, "/account/devices", cookieHeader: copy);
        refused.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        refused.Headers.Location!.ToString().ShouldContain("/Identity/Account/Login");
    }

    [Fact]
    public async Task A_lockout_after_five_wrong_passwords_ends_on_the_servers_clock()
    {
        var (email, password) = await PhoneApp.NewAccountAsync(factory, "lockout");
        var jar = NewJar();
        for (var i = 0; i < 5; i++) (await SignInAsync(jar, email, "Wrong-Password-1")).StatusCode.ShouldBe(HttpStatusCode.OK);

        factory.Clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        var locked = await SignInAsync(jar, email, password);
        locked.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await locked.Content.ReadAsStringAsync()).ShouldContain("This account is locked for a while");

        factory.Clock.Advance(TimeSpan.FromSeconds(2));
        var signedIn = await SignInAsync(jar, email, password);
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect, "the lockout is over on the server's clock");
        signedIn.Headers.Location!.ToString().ShouldBe("/");
    }
}
