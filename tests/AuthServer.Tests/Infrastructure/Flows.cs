namespace AuthServer.Tests.Infrastructure;

/// <summary>Whole flows, for tests about what comes after them.</summary>
public static class Flows
{
    /// <summary>Starts a device login, approves it as the demo user through the real pages, and redeems it.</summary>
    public static async Task<Protocol.Answer> SignInDeviceAsync(this AuthServerFactory factory, string scope = Protocol.DemoScopes, string clientId = "demo-tv")
    {
        var device = factory.CreateClient();
        var started = await device.StartAsync(clientId, scope);
        await factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var tokens = await device.PollAsync(started.Get("device_code"), clientId);
        tokens.Status.ShouldBe(System.Net.HttpStatusCode.OK);
        return tokens;
    }

    /// <summary>The phone side: signs in as the demo user, opens the code and approves or denies it.</summary>
    public static async Task DecideAsDemoUserAsync(this AuthServerFactory factory, string userCode, bool approve)
    {
        var phone = factory.CreateBrowser();
        await phone.SignInAsync();
        await phone.ScanAndDecideAsync(userCode, approve);
    }
}
