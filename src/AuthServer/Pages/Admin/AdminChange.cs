using AuthServer.Data;

namespace AuthServer.Pages.Admin;

/// <summary>Every change an admin makes commits whole, together with the audit events it adds, or not at all.</summary>
public static class AdminChange
{
    /// <summary>
    /// Runs <paramref name="change"/> in one write transaction and commits it with the audit events it added; when it
    /// returns a reason instead, nothing it did is kept, and the reason is returned for the page to show.
    /// </summary>
    public static async Task<string?> RunAsync(AuthServerDbContext db, Func<Task<string?>> change, CancellationToken cancellationToken)
    {
        await using var write = await db.BeginWriteAsync(cancellationToken);
        var refusal = await change();
        if (refusal is not null)
        {
            // Rolled back when the transaction is disposed; nothing staged may reach a later save either.
            db.ChangeTracker.Clear();
            return refusal;
        }
        await db.SaveChangesAsync(cancellationToken);
        await write.CommitAsync(cancellationToken);
        return null;
    }
}
