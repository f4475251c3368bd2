using System.Net;
using System.Text.Json;

namespace AuthServer.Bench;

/// <summary>
/// A device-flow server the comparisons drive with the same client code: AuthServer, where the phone scans and approves,
/// or the stock OpenIddict server, where its verification endpoint approves for its demo user.
/// </summary>
public sealed class DeviceFlowServer
{
    private readonly string _scope;
    private readonly Func<Client, string, Task> _approve;

    private DeviceFlowServer(ServerProcess process, string scope, Func<Client, string, Task> approve)
    {
        Process = process;
        Client = new Client(process.BaseAddress);
        _scope = scope;
        _approve = approve;
    }

    public ServerProcess Process { get; }
    public Client Client { get; }
    public string Name => Process.Name;

    /// <summary>
    /// AuthServer with the scope its figures have always been taken with: each redemption signs an access token and
    /// an ID token and stores a linked device and a refresh token.
    /// </summary>
    public static DeviceFlowServer AuthServer(ServerProcess process, string phoneToken) =>
        new(process, "openid offline_access api", (client, userCode) => client.ScanAndApproveAsync(phoneToken, userCode));

    /// <summary>The stock server: an access token, an ID token and a refresh token per redemption.</summary>
    public static DeviceFlowServer StockOpenIddict(ServerProcess process) =>
        new(process, "openid offline_access", (client, userCode) => client.ApproveAtVerificationEndpointAsync(userCode));

    public Task<Client.Started> StartAsync() => Client.StartAsync(scope: _scope);

    /// <summary>A whole login: the screen starts, the user approves, the screen redeems its device code for tokens.</summary>
    public async Task<JsonElement> LogInAsync()
    {
        var request = await StartAsync();
        await _approve(Client, request.UserCode);
        var (status, json) = await Client.PollAsync(request.DeviceCode);
        if (status != HttpStatusCode.OK) throw new InvalidOperationException($"{Name}: redeem answered {(int)status}: {json}");
        return json;
    }

    /// <summary>One login, for its refresh token.</summary>
    public async Task<string> SignInAsync() => (await LogInAsync()).GetProperty("refresh_token").GetString()!;

    /// <summary>One refresh grant: the chain's next refresh token.</summary>
    public async Task<string> RefreshAsync(string refreshToken)
    {
        var (status, json) = await Client.RefreshAsync(refreshToken);
        if (status != HttpStatusCode.OK) throw new InvalidOperationException($"{Name}: refresh answered {(int)status}: {json}");
        return json.GetProperty("refresh_token").GetString()!;
    }
}
