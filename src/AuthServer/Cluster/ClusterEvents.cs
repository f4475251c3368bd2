using System.Globalization;

namespace AuthServer.Cluster;

/// <summary>What changed on one node that other nodes may hold in memory.</summary>
public enum ClusterEventKind
{
    /// <summary>A login request moved (scanned, decided, superseded, redeemed): its id and new version.</summary>
    LoginRequestChanged,

    /// <summary>Signing keys were created or rotated: every node reloads them.</summary>
    SigningKeysChanged,

    /// <summary>An OpenIddict application (a client) was created, changed or deleted: every node reloads its snapshot.</summary>
    ClientsChanged,
}

/// <summary>
/// One cross-node event. It carries ids and versions only, never a secret or a row: a receiver reads what it needs
/// from the database, which stays the source of truth, so an event that arrives twice or late changes nothing.
/// </summary>
public readonly record struct ClusterEvent(ClusterEventKind Kind, string? Id = null, int Version = 0)
{
    public static ClusterEvent LoginRequestChanged(string id, int version) => new(ClusterEventKind.LoginRequestChanged, id, version);

    public static readonly ClusterEvent SigningKeysChanged = new(ClusterEventKind.SigningKeysChanged);

    public static readonly ClusterEvent ClientsChanged = new(ClusterEventKind.ClientsChanged);

    /// <summary>The wire form, "&lt;node&gt; r &lt;id&gt; &lt;version&gt;", "&lt;node&gt; k" or "&lt;node&gt; c": short, and ASCII for any id we make.</summary>
    public string Format(string node) => Kind switch
    {
        ClusterEventKind.LoginRequestChanged => $"{node} r {Id} {Version.ToString(CultureInfo.InvariantCulture)}",
        ClusterEventKind.SigningKeysChanged => $"{node} k",
        _ => $"{node} c",
    };

    /// <summary>Reads the wire form; anything else (another program on the channel, a newer format) is ignored.</summary>
    public static bool TryParse(string payload, out string node, out ClusterEvent parsed)
    {
        node = "";
        parsed = default;
        var parts = payload.Split(' ');
        if (parts.Length < 2 || parts[0].Length == 0) return false;
        node = parts[0];
        switch (parts[1])
        {
            case "r" when parts.Length == 4 && parts[2].Length > 0
                && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var version):
                parsed = LoginRequestChanged(parts[2], version);
                return true;
            case "k" when parts.Length == 2:
                parsed = SigningKeysChanged;
                return true;
            case "c" when parts.Length == 2:
                parsed = ClientsChanged;
                return true;
            default:
                return false;
        }
    }
}

/// <summary>
/// The cluster event bus: how a node tells the other nodes that something they may hold in memory has changed. The
/// node that makes a change updates its own caches first and then publishes; receivers reload from the database.
/// </summary>
public abstract class ClusterEvents
{
    /// <summary>
    /// Tells the other nodes, after the change has committed. It never throws and ignores the request's cancellation:
    /// the change is made whatever happens to the announcement, and a node that missed one catches up when it
    /// reconnects (see <see cref="PostgreSqlEvents"/>).
    /// </summary>
    public abstract ValueTask PublishAsync(ClusterEvent change);

    /// <summary>Since when this node has not been listening to the other nodes; null while it is.</summary>
    public abstract DateTimeOffset? NotListeningSince { get; }
}

/// <summary>
/// The in-process bus, for SQLite: one process serves one file, so every cache that could hold a change is this
/// process's, and the code that made the change has already updated it. Publishing costs nothing.
/// </summary>
public sealed class InProcessEvents : ClusterEvents
{
    public override ValueTask PublishAsync(ClusterEvent change) => ValueTask.CompletedTask;

    public override DateTimeOffset? NotListeningSince => null;
}

/// <summary>What a node does with the other nodes' events: <see cref="ClusterEventHandler"/>, or a test's recorder.</summary>
public interface IClusterEventSink
{
    /// <summary>Applies one event. Must be idempotent: versions decide whether anything is left to do.</summary>
    Task HandleAsync(ClusterEvent change, CancellationToken cancellationToken);

    /// <summary>
    /// Re-reads everything this node holds in memory that another node could have changed, after a time it may have
    /// missed events (start-up, a dropped connection). Returns how many login requests it re-read.
    /// </summary>
    Task<int> CatchUpAsync(CancellationToken cancellationToken);
}
