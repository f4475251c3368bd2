using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace AuthServer.Data.Stores;

/// <summary>
/// One INSERT and one optimistic UPDATE for a row of an OpenIddict entity, written once from the EF model (table,
/// columns, quoting and type mappings of whichever provider is in use), so a token or an authorization is stored in a
/// single statement without the change tracker. OpenIddict's own stores attach the entity and run SaveChanges, which
/// was most of the server's CPU per login (docs/benchmarks.md).
/// </summary>
internal sealed class RowStatements
{
    private readonly IProperty _key;
    private readonly IProperty _concurrency;
    private readonly IProperty[] _columns;
    private readonly IProperty[] _insertOrder;
    private readonly string _insert;
    private readonly string _update;

    private RowStatements(IEntityType entity, ISqlGenerationHelper sql)
    {
        var table = sql.DelimitIdentifier(entity.GetTableName()!, entity.GetSchema());
        var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(IProperty property) => sql.DelimitIdentifier(property.GetColumnName(store)!);

        _key = entity.FindPrimaryKey()!.Properties.Single();
        _concurrency = entity.GetProperties().Single(p => p.IsConcurrencyToken);
        // Every mapped column; a shadow property would have no value on a detached entity, so there must be none.
        _columns = [.. entity.GetProperties().Where(p => p != _key && p != _concurrency)];
        if (_columns.FirstOrDefault(p => p.IsShadowProperty()) is { } shadow)
            throw new InvalidOperationException($"{entity.ClrType.Name}.{shadow.Name} must be a CLR property to be stored in one statement.");

        _insertOrder = [_key, _concurrency, .. _columns];
        _insert = InsertSql(entity, sql, _insertOrder);
        // The concurrency token moves on every update, and the old one must still be there: of two writers that read
        // the same row, exactly one succeeds (a code redeemed twice at once, RFC 6749 §4.1.2).
        var assignments = _columns.Select((p, i) => $"{Column(p)} = {{{i}}}").Append($"{Column(_concurrency)} = {{{_columns.Length}}}");
        _update = $"UPDATE {table} SET {string.Join(", ", assignments)} WHERE {Column(_key)} = {{{_columns.Length + 1}}} AND {Column(_concurrency)} = {{{_columns.Length + 2}}}";
    }

    private static readonly Dictionary<(IModel, Type), RowStatements> Built = [];

    public static RowStatements For<TEntity>(DbContext db)
    {
        var model = db.Model;
        lock (Built)
        {
            if (!Built.TryGetValue((model, typeof(TEntity)), out var statements))
                Built[(model, typeof(TEntity))] = statements = new RowStatements(model.FindEntityType(typeof(TEntity))!, db.GetService<ISqlGenerationHelper>());
            return statements;
        }
    }

    /// <summary>Inserts the row; with <paramref name="audit"/>, the row and its event commit together.</summary>
    public Task InsertAsync(AuthServerDbContext db, object entity, Entities.AuditEvent? audit, CancellationToken cancellationToken) =>
        WithAuditAsync(db, audit, async () =>
        {
            await ExecuteInsertAsync(db, _insert, _insertOrder, entity, cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Writes every column and moves the entity's concurrency token; false (the entity's token unchanged, no event
    /// written) when the row changed or went since it was read. With <paramref name="audit"/>, the row and its event
    /// commit together.
    /// </summary>
    public async Task<bool> UpdateAsync(AuthServerDbContext db, object entity, Entities.AuditEvent? audit, CancellationToken cancellationToken)
    {
        var expected = _concurrency.GetGetter().GetClrValue(entity) as string ?? "";
        var next = Guid.NewGuid().ToString();
        var updated = await WithAuditAsync(db, audit, async () =>
        {
            using var scratch = db.Database.GetDbConnection().CreateCommand();
            var values = new DbParameter[_columns.Length + 3];
            for (var i = 0; i < _columns.Length; i++) values[i] = Parameter(scratch, i, _columns[i], _columns[i].GetGetter().GetClrValue(entity));
            values[_columns.Length] = Parameter(scratch, _columns.Length, _concurrency, next);
            values[_columns.Length + 1] = Parameter(scratch, _columns.Length + 1, _key, _key.GetGetter().GetClrValue(entity));
            values[_columns.Length + 2] = Parameter(scratch, _columns.Length + 2, _concurrency, expected);
            return await db.Database.ExecuteSqlRawAsync(_update, values, cancellationToken) == 1;
        }, cancellationToken);
        if (updated) _concurrency.PropertyInfo!.SetValue(entity, next);
        return updated;
    }

    /// <summary>
    /// Runs one statement on the request's open connection, and with an audit event, the statement and the event in
    /// one transaction (or in the caller's, when there is one). False when the statement changed nothing; the event is
    /// then not written.
    /// </summary>
    private static async Task<bool> WithAuditAsync(AuthServerDbContext db, Entities.AuditEvent? audit, Func<Task<bool>> statement, CancellationToken cancellationToken)
    {
        await db.KeepOpenAsync(cancellationToken);
        if (audit is null) return await statement();
        var own = db.Database.CurrentTransaction is null ? await db.BeginWriteAsync(cancellationToken) : null;
        await using (own)
        {
            if (!await statement()) return false;
            await AuditRow.For(db).InsertAsync(db, audit, cancellationToken);
            if (own is not null) await own.CommitAsync(cancellationToken);
            return true;
        }
    }

    /// <summary>
    /// The audit event's INSERT, written from the EF model like the rows' own: an event written through the change
    /// tracker and <c>SaveChanges</c> cost about a millisecond of CPU per token response (docs/benchmarks.md), most of
    /// it EF's update pipeline for one row whose key the database makes.
    /// </summary>
    private sealed class AuditRow
    {
        private readonly IProperty[] _columns;
        private readonly string _insert;

        private AuditRow(IEntityType entity, ISqlGenerationHelper sql)
        {
            // Every column but the key, which the database makes.
            var key = entity.FindPrimaryKey()!.Properties.Single();
            _columns = [.. entity.GetProperties().Where(p => p != key)];
            _insert = InsertSql(entity, sql, _columns);
        }

        private static readonly Dictionary<IModel, AuditRow> Built = [];

        public static AuditRow For(DbContext db)
        {
            lock (Built)
            {
                if (!Built.TryGetValue(db.Model, out var row))
                    Built[db.Model] = row = new AuditRow(db.Model.FindEntityType(typeof(Entities.AuditEvent))!, db.GetService<ISqlGenerationHelper>());
                return row;
            }
        }

        public Task InsertAsync(AuthServerDbContext db, Entities.AuditEvent audit, CancellationToken cancellationToken) =>
            ExecuteInsertAsync(db, _insert, _columns, audit, cancellationToken);
    }

    /// <summary>An INSERT of <paramref name="columns"/> into the entity's table, with one placeholder per column.</summary>
    private static string InsertSql(IEntityType entity, ISqlGenerationHelper sql, IProperty[] columns)
    {
        var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        return $"INSERT INTO {sql.DelimitIdentifier(entity.GetTableName()!, entity.GetSchema())} " +
            $"({string.Join(", ", columns.Select(p => sql.DelimitIdentifier(p.GetColumnName(store)!)))}) " +
            $"VALUES ({string.Join(", ", columns.Select((_, i) => $"{{{i}}}"))})";
    }

    private static async Task ExecuteInsertAsync(AuthServerDbContext db, string insert, IProperty[] columns, object entity, CancellationToken cancellationToken)
    {
        using var scratch = db.Database.GetDbConnection().CreateCommand();
        var values = new DbParameter[columns.Length];
        for (var i = 0; i < columns.Length; i++) values[i] = Parameter(scratch, i, columns[i], columns[i].GetGetter().GetClrValue(entity));
        await db.Database.ExecuteSqlRawAsync(insert, values, cancellationToken);
    }

    // The column's own type mapping makes the parameter, converters included, exactly as SaveChanges would.
    private static DbParameter Parameter(DbCommand scratch, int index, IProperty property, object? value) =>
        property.GetRelationalTypeMapping().CreateParameter(scratch, "p" + index, value, property.IsNullable);
}
