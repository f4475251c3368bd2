using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AuthServer.Data;

/// <summary>
/// With write-ahead logging, <c>synchronous=NORMAL</c> syncs at checkpoints instead of at every commit: the database
/// stays consistent after a crash or power loss, and only the last moments of commits may be lost on power loss.
/// For login requests that live minutes that trade is right; a sync per commit capped whole flows at the disk's speed.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL;";
        command.ExecuteNonQuery();
    }
}
