using AuthServer.Data;
using AuthServer.Dpop;

namespace AuthServer.Tokens;

/// <summary>
/// The DPoP replay cache of every node on PostgreSQL (RFC 9449 §11.1): a proof id is one row of <c>DpopProofs</c>,
/// whose key is the proof key's thumbprint and the <c>jti</c>. <c>INSERT … ON CONFLICT DO NOTHING</c> decides in one
/// atomic statement: of two nodes given the same proof at once, exactly one inserts the row and accepts it, and the
/// other finds the key taken and refuses it as a replay. Rows are kept until the proof's <c>iat</c> check would fail
/// anyway and pruned after that by the cleanup job. Unlike the in-memory cache it has no size bound to fill.
/// </summary>
public sealed class SharedDpopReplayStore(StatementRunner statements) : IDpopReplayStore
{
    private const string InsertSql = """
        INSERT INTO "DpopProofs" ("Jkt", "Jti", "ExpiresAt") VALUES (@jkt, @jti, @until) ON CONFLICT DO NOTHING
        """;

    private const string PruneSql = """DELETE FROM "DpopProofs" WHERE "ExpiresAt" < @now""";

    public async ValueTask<DpopReplayCache.Outcome> TryUseAsync(string jkt, string jti, DateTimeOffset keepUntil, DateTimeOffset now, CancellationToken cancellationToken) =>
        await statements.WriteAsync(InsertSql, p =>
        {
            p.Bind("jkt", jkt);
            p.Bind("jti", jti);
            p.Bind("until", keepUntil);
        }, cancellationToken) == 1 ? DpopReplayCache.Outcome.New : DpopReplayCache.Outcome.Replayed;

    /// <summary>Deletes the proof ids whose proofs could no longer pass the <c>iat</c> check.</summary>
    public async ValueTask<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await statements.WriteAsync(PruneSql, p => p.Bind("now", now), cancellationToken);
}
