using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;

namespace AuthServer.Data.Stores;

/// <summary>
/// A compiled, untracked lookup by one key. EF binds a compiled query to the model it first runs with, and each
/// provider's context has a model of its own, so the query is compiled once per provider. A server runs one provider;
/// a test process runs both.
/// </summary>
internal sealed class CompiledLookup<TEntity>(Expression<Func<AuthServerDbContext, string, CancellationToken, TEntity?>> query)
    where TEntity : class
{
    private readonly Func<AuthServerDbContext, string, CancellationToken, Task<TEntity?>> _sqlite = EF.CompileAsyncQuery(query);
    private readonly Func<AuthServerDbContext, string, CancellationToken, Task<TEntity?>> _postgreSql = EF.CompileAsyncQuery(query);

    public Task<TEntity?> RunAsync(AuthServerDbContext db, string key, CancellationToken cancellationToken) =>
        (db is PostgreSqlAuthServerDbContext ? _postgreSql : _sqlite)(db, key, cancellationToken);
}
