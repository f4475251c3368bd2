using System.Net;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace AuthServer.Tests.Protocol;

/// <summary>
/// A public client's pending poll is answered before OpenIddict's pipeline (<c>PendingPollShortcut</c>); every other
/// token request, and every poll the shortcut does not recognise, still goes through OpenIddict. These tests count the
/// token requests OpenIddict's dispatcher sees, and check that both paths give the same answers from the same state.
/// </summary>
public sealed class PendingPollShortcutTests : IDisposable
{
    private readonly CountingFactory _server = new();

    private TokenRequestCounter _openIddict => _server.OpenIddictTokenRequests;

    private HttpClient Device() => _server.CreateClient();

    private sealed class CountingFactory : AuthServerFactory
    {
        public TokenRequestCounter OpenIddictTokenRequests { get; } = new();

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddOpenIddict().AddServer(server => server.AddEventHandler(OpenIddictTokenRequests.Descriptor));
            });
        }
    }

    private async Task<(string DeviceCode, string UserCode)> StartAsync(HttpClient device)
    {
        var started = await device.StartAsync();
        started.Status.ShouldBe(HttpStatusCode.OK);
        return (started.Get("device_code"), started.Get("user_code"));
    }

    [Fact]
    public async Task Pending_and_slow_down_answers_to_a_public_client_do_not_reach_OpenIddict_and_the_approved_poll_does()
    {
        var device = Device();
        var (deviceCode, userCode) = await StartAsync(device);

        var pending = await device.PollAsync(deviceCode);
        pending.Status.ShouldBe(HttpStatusCode.BadRequest);
        pending.Error.ShouldBe("authorization_pending");
        pending.Get("error_description").ShouldBe("The user has not yet approved the request.");
        pending.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        pending.Response.Headers.Pragma.ToString().ShouldBe("no-cache");
        pending.Response.Content.Headers.ContentType!.ToString().ShouldBe("application/json; charset=UTF-8");
        // The page-wide headers are set before the shortcut, as on every other answer.
        pending.Response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);

        _server.Clock.Advance(TimeSpan.FromSeconds(2));
        var tooFast = await device.PollAsync(deviceCode);
        tooFast.Error.ShouldBe("slow_down");
        tooFast.Get("error_description").ShouldBe("Polling too fast: add 5 seconds to the interval.");
        _openIddict.Count.ShouldBe(0);

        await _server.DecideAsDemoUserAsync(userCode, approve: true);
        _server.Clock.Advance(TimeSpan.FromSeconds(10));
        var tokens = await device.PollAsync(deviceCode);
        tokens.Status.ShouldBe(HttpStatusCode.OK);
        tokens.Get("access_token").ShouldNotBeNullOrEmpty();
        _openIddict.Count.ShouldBe(1);

        // Redeemed: the shortcut leaves it to OpenIddict and our handlers, which say so.
        _server.Clock.Advance(TimeSpan.FromSeconds(10));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("invalid_grant");
        _openIddict.Count.ShouldBe(2);
    }

    /// <summary>Polls the shortcut does not take get OpenIddict's answer, from the same bookkeeping.</summary>
    [Theory]
    [InlineData("duplicated client_id", "invalid_request")]
    [InlineData("an extra parameter", "authorization_pending")]
    [InlineData("an Origin header", "authorization_pending")]
    [InlineData("another client", "invalid_grant")]
    [InlineData("an unknown code", "invalid_grant")]
    [InlineData("a multipart body", "invalid_request")]
    public async Task Polls_the_shortcut_does_not_recognise_are_answered_by_OpenIddict(string variant, string error)
    {
        var device = Device();
        var (deviceCode, _) = await StartAsync(device);
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", Infrastructure.Protocol.DeviceGrant),
            new("client_id", "demo-tv"),
            new("device_code", variant == "an unknown code" ? "not-a-device-code" : deviceCode),
        };
        if (variant == "duplicated client_id") form.Add(new("client_id", "demo-tv"));
        if (variant == "an extra parameter") form.Add(new("device_name", "Kitchen"));
        if (variant == "another client") form[1] = new("client_id", "cli");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = variant == "a multipart body" ? Multipart(form) : new FormUrlEncodedContent(form),
        };
        if (variant == "an Origin header") request.Headers.Add("Origin", "https://elsewhere.example");

        var answer = await Infrastructure.Protocol.ReadAsync(await device.SendAsync(request));

        answer.Status.ShouldBe(HttpStatusCode.BadRequest);
        answer.Error.ShouldBe(error);
        _openIddict.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Both_paths_share_the_slow_down_bookkeeping_and_give_the_same_body()
    {
        var device = Device();
        var (deviceCode, _) = await StartAsync(device);

        var byShortcut = await device.PollAsync(deviceCode);
        _server.Clock.Advance(TimeSpan.FromSeconds(2));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent([
                new("grant_type", Infrastructure.Protocol.DeviceGrant), new("client_id", "demo-tv"), new("device_code", deviceCode)]),
        };
        request.Headers.Add("Origin", "https://elsewhere.example");
        var byOpenIddict = await Infrastructure.Protocol.ReadAsync(await device.SendAsync(request));

        _openIddict.Count.ShouldBe(1);
        byOpenIddict.Error.ShouldBe("slow_down");
        // The interval is now 10 s (RFC 8628 §3.5): 6 s later the shortcut slows the client down again, 10 s later not.
        _server.Clock.Advance(TimeSpan.FromSeconds(6));
        (await device.PollAsync(deviceCode)).Error.ShouldBe("slow_down");
        _server.Clock.Advance(TimeSpan.FromSeconds(15));
        var pendingAgain = await device.PollAsync(deviceCode);
        pendingAgain.Error.ShouldBe("authorization_pending");
        (await pendingAgain.Response.Content.ReadAsStringAsync()).ShouldBe(await byShortcut.Response.Content.ReadAsStringAsync());
        _openIddict.Count.ShouldBe(1);
    }

    /// <summary>A poll of exactly the shortcut's three parameters from a confidential client must still prove the client.</summary>
    [Fact]
    public async Task A_confidential_clients_poll_without_its_secret_is_left_to_OpenIddict_which_refuses_the_client()
    {
        var device = Device();
        var started = await device.PostFormAsync("/connect/device",
            ("client_id", AuthServerFactory.SecretClientId), ("client_secret", AuthServerFactory.SecretClientSecret), ("scope", "api"));
        started.Status.ShouldBe(HttpStatusCode.OK);

        var withoutSecret = await device.PollAsync(started.Get("device_code"), AuthServerFactory.SecretClientId);

        withoutSecret.Status.ShouldBe(HttpStatusCode.Unauthorized);
        withoutSecret.Error.ShouldBe("invalid_client");
        _openIddict.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_request_bound_to_a_DPoP_key_is_left_to_OpenIddict_which_refuses_a_poll_without_the_proof()
    {
        var device = Device();
        using var key = DpopKey.Ec(_server.Clock);
        var started = await key.StartAsync(device);
        started.Status.ShouldBe(HttpStatusCode.OK);

        var withoutProof = await device.PollAsync(started.Get("device_code"));

        withoutProof.Error.ShouldBe("invalid_dpop_proof");
        _openIddict.Count.ShouldBe(1);
    }

    private static MultipartFormDataContent Multipart(IEnumerable<KeyValuePair<string, string>> form)
    {
        var content = new MultipartFormDataContent();
        foreach (var (key, value) in form) content.Add(new StringContent(value), key);
        return content;
    }

    public void Dispose() => _server.Dispose();

    /// <summary>Token requests that reach OpenIddict's dispatcher, counted once it has told which endpoint they are for.</summary>
    public sealed class TokenRequestCounter : IOpenIddictServerHandler<ProcessRequestContext>
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        /// <summary>This very instance as the handler, so the test reads the count the server kept.</summary>
        public OpenIddictServerHandlerDescriptor Descriptor => OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler(this)
            .SetOrder(OpenIddictServerHandlers.InferEndpointType.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

        public ValueTask HandleAsync(ProcessRequestContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token) Interlocked.Increment(ref _count);
            return ValueTask.CompletedTask;
        }
    }
}
