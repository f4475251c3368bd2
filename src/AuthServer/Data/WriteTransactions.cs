using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AuthServer.Data;

public static class WriteTransactions
{
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

    /// <summary>
    /// <see cref="BeginWriteAsync"/> unless the context is already in a transaction (the caller's), in which case the
    /// work joins it and null is returned: the caller commits.
    /// </summary>
    public static async Task<IDbContextTransaction?> BeginWriteUnlessOpenAsync(this AuthServerDbContext db, CancellationToken cancellationToken) =>
        db.Database.CurrentTransaction is null ? await db.BeginWriteAsync(cancellationToken) : null;
}
