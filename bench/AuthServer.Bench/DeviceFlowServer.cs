using System.Net;
using System.Text.Json;

namespace AuthServer.Bench;

/// <summary>
/// A device-flow server the comparisons drive with the same client code: AuthServer, where the phone scans and approves,
/// or the stock OpenIddict server, where its verification endpoint approves for its demo user. AuthServer may be
/// several nodes on one PostgreSQL database: then the requests of one login are spread over them as a load balancer
/// without sticky sessions would (docs/operations.md, "Several nodes").
/// </summary>
public sealed class DeviceFlowServer
{
    private readonly string _scope;
    private readonly Func<Client, string, Task> _approve;
    private readonly Client[] _clients;
    private int _next;

    private DeviceFlowServer(string name, IReadOnlyList<ServerProcess> nodes, string scope, Func<Client, string, Task> approve,
        Func<TimeSpan>? databaseCpu = null)
    {
        DatabaseCpuTime = databaseCpu;
        Name = name;
        Nodes = nodes;
        _clients = [.. nodes.Select(n => new Client(n.BaseAddress))];
        _scope = scope;
        _approve = approve;
    }

    /// <summary>The server's processes: one, or several nodes sharing one database.</summary>
    public IReadOnlyList<ServerProcess> Nodes { get; }

    /// <summary>The first node: where a single-server measurement points.</summary>
    public ServerProcess Process => Nodes[0];
    public Client Client => _clients[0];
    public string Name { get; }

    /// <summary>
    /// The database server's CPU time, when it runs outside the nodes (PostgreSQL): its share of a unit of work is
    /// printed beside theirs. Null for SQLite, which runs inside the server process and is in its figure.
    /// </summary>
    public Func<TimeSpan>? DatabaseCpuTime { get; }

    /// <summary>CPU time of every node (user + system): a cost per unit of work counts the whole cluster's.</summary>
    public TimeSpan CpuTime() => Nodes.Aggregate(TimeSpan.Zero, (sum, node) => sum + node.CpuTime());

    /// <summary>
    /// AuthServer with the scope its figures have always been taken with: each redemption signs an access token and
    /// an ID token and stores a linked device and a refresh token.
    /// </summary>
    public static DeviceFlowServer AuthServer(IReadOnlyList<ServerProcess> nodes, string phoneToken, Func<TimeSpan>? databaseCpu = null) =>
        new("AuthServer", nodes, "openid offline_access api", (client, userCode) => client.ScanAndApproveAsync(phoneToken, userCode), databaseCpu);

    /// <summary>The stock server: an access token, an ID token and a refresh token per redemption.</summary>
    public static DeviceFlowServer StockOpenIddict(ServerProcess process) =>
        new(process.Name, [process], "openid offline_access", (client, userCode) => client.ApproveAtVerificationEndpointAsync(userCode));

    public Task<Client.Started> StartAsync() => Client.StartAsync(scope: _scope);

    /// <summary>
    /// A whole login: the screen starts, the user approves, the screen redeems its device code for tokens. With several
    /// nodes the screen's requests go to one node and the phone's to the next, so every login crosses nodes.
    /// </summary>
    public async Task<JsonElement> LogInAsync()
    {
        var node = NextNode();
        var screen = _clients[node];
        var phone = _clients[(node + 1) % _clients.Length];
        var request = await screen.StartAsync(scope: _scope);
        await _approve(phone, request.UserCode);
        var (status, json) = await screen.PollAsync(request.DeviceCode);
        if (status != HttpStatusCode.OK) throw new InvalidOperationException($"{Name}: redeem answered {(int)status}: {json}");
        return json;
    }

    /// <summary>One login, for its refresh token.</summary>
    public async Task<string> SignInAsync() => (await LogInAsync()).GetProperty("refresh_token").GetString()!;

    /// <summary>One refresh grant, on the next node in turn: the chain's next refresh token.</summary>
    public async Task<string> RefreshAsync(string refreshToken)
    {
        var (status, json) = await _clients[NextNode()].RefreshAsync(refreshToken);
        if (status != HttpStatusCode.OK) throw new InvalidOperationException($"{Name}: refresh answered {(int)status}: {json}");
        return json.GetProperty("refresh_token").GetString()!;
    }

    /// <summary>The index of the next node in turn, as a round-robin load balancer picks it.</summary>
    private int NextNode() => (int)((uint)Interlocked.Increment(ref _next) % (uint)_clients.Length);
}
