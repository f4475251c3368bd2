using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AuthServer.Data;

/// <summary>
/// With write-ahead logging, <c>synchronous=NORMAL</c> syncs at checkpoints instead of at every commit: the database
/// stays consistent after a crash or power loss, and only the last moments of commits may be lost on power loss.
/// For login requests that live minutes that trade is right; a sync per commit capped whole flows at the disk's speed.
/// </summary>
/// <remarks>
/// The setting belongs to the native connection, which the driver pools and hands out again on every open; it is
/// applied once per native connection rather than as an extra statement on every open.
/// </remarks>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    /// <summary>
    /// What every connection to the file runs once (the lanes too). No automatic checkpoint: a commit that fills the log
    /// would run it, and wait for its syncs, before returning; <see cref="SqliteCheckpointer"/> runs it in the background.
    /// </summary>
    public const string Statements = "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;";

    private readonly ConditionalWeakTable<object, object> _applied = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        object key = (connection as SqliteConnection)?.Handle is { } handle ? handle : connection;
        if (_applied.TryGetValue(key, out _)) return;
        using var command = connection.CreateCommand();
        command.CommandText = Statements;
        command.ExecuteNonQuery();
        _applied.AddOrUpdate(key, key);
    }
}
