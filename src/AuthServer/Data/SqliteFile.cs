using Microsoft.Data.Sqlite;

namespace AuthServer.Data;

/// <summary>
/// The SQLite file this process opened, watched for disappearing. A file deleted (or moved away) under a running server
/// is not an error to SQLite: its open connections keep the deleted file and go on reading and committing to it, so
/// every later write would be lost when the process ends. The write gate refuses writes once the path is gone (503,
/// through <see cref="Hosting.DatabaseOutage"/>), and the readiness check reports it, so the node leaves the load
/// balancer and an operator restores the file and restarts.
/// </summary>
/// <remarks>
/// The path is checked, not the file's identity: a different file put at the same path under a running server is not
/// detected. One <c>stat</c> per write (a microsecond or two) against a commit's fsync-bounded cost.
/// </remarks>
public sealed class SqliteFile
{
    /// <summary>SQLite's SQLITE_CANTOPEN, which <see cref="Hosting.DatabaseOutage"/> reads as an outage.</summary>
    private const int CantOpen = 14;

    private readonly string? _path;
    private volatile bool _seen;

    public SqliteFile(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var memory = builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:";
        _path = memory ? null : Path.GetFullPath(builder.DataSource);
    }

    /// <summary>The file's full path; null for an in-memory database.</summary>
    public string? FilePath => _path;

    /// <summary>Whether the file existed once and is no longer at its path.</summary>
    public bool IsGone
    {
        get
        {
            if (_path is null) return false;
            if (File.Exists(_path))
            {
                _seen = true;
                return false;
            }
            return _seen;
        }
    }

    /// <summary>Refuses a write once the file is gone, before it reaches the deleted file.</summary>
    public void ThrowIfGone()
    {
        if (IsGone)
            throw new SqliteException($"The database file {_path} was deleted or moved while the server had it open; writes are refused " +
                "until it is restored and the server restarted.", CantOpen);
    }
}
