using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AuthServer.Data;

public static class WriteTransactions
{
    /// <summary>
    /// Opens the context's connection for the rest of the request; it is closed when the context goes back to the
    /// pool at the end of the request's scope. Otherwise every query opens and closes it, and each open re-registers
    /// EF's SQL functions on the native connection: on the hot paths that cost more than some of the queries.
    /// </summary>
    public static async ValueTask KeepOpenAsync(this AuthServerDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.GetDbConnection().State != System.Data.ConnectionState.Open)
            await db.Database.OpenConnectionAsync(cancellationToken);
    }

    /// <summary>
    /// Begins a unit of work that commits whole or is abandoned whole. EF would otherwise wrap every SaveChanges inside
    /// the transaction in a savepoint (two more statements on SQLite's single writer), so that a failed save could be
    /// retried within it; nothing here continues a transaction after a failed save.
    /// </summary>
    public static Task<IDbContextTransaction> BeginWriteAsync(this AuthServerDbContext db, CancellationToken cancellationToken)
    {
        db.Database.AutoSavepointsEnabled = false;
        return db.Database.BeginTransactionAsync(cancellationToken);
    }
}
