using AuthServer.Data.Entities;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace AuthServer.Data;

/// <summary>
/// The one model: Identity, OpenIddict, ours and the Data Protection key ring. It is abstract because each database
/// provider has a subclass of its own (<see cref="SqliteAuthServerDbContext"/>, <see cref="PostgreSqlAuthServerDbContext"/>)
/// that its migrations are generated for: EF Core ties a migration set to a context type, so two types keep two sets
/// in one assembly. The service is always resolved as this type.
/// </summary>
public abstract class AuthServerDbContext(DbContextOptions options)
    : IdentityDbContext<ApplicationUser>(options), IDataProtectionKeyContext
{
    public DbSet<DeviceAuthorization> DeviceAuthorizations => Set<DeviceAuthorization>();
    public DbSet<BrowserSignIn> BrowserSignIns => Set<BrowserSignIn>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();
    /// <summary>The Data Protection key ring, in the framework's own entity (PersistKeysToDbContext).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    // OpenIddict's stores (applications = clients, authorizations = linked devices and consents, tokens), mapped by
    // UseOpenIddict in the same context as Identity so one transaction can span them.
    public DbSet<Application> Applications => Set<Application>();
    public DbSet<Authorization> Authorizations => Set<Authorization>();
    public DbSet<Token> Tokens => Set<Token>();
    public DbSet<RefreshTokenUse> RefreshTokenUses => Set<RefreshTokenUse>();
    public DbSet<RateLimitCounter> RateLimitCounters => Set<RateLimitCounter>();
    public DbSet<DpopProofUse> DpopProofs => Set<DpopProofUse>();

    /// <summary>
    /// Keeps the connection open for the rest of this context's use (one request), instead of EF opening and closing
    /// it around every statement: a refresh grant runs about ten, and each open re-registers the provider's SQL
    /// functions on the native connection. The context closes it when it is disposed or returned to the pool.
    /// </summary>
    public async ValueTask KeepOpenAsync(CancellationToken cancellationToken)
    {
        if (Database.GetDbConnection().State != System.Data.ConnectionState.Open) await Database.OpenConnectionAsync(cancellationToken);
    }

    private List<Func<CancellationToken, Task>>? _afterCommit;

    /// <summary>
    /// Runs <paramref name="work"/> once the current transaction has committed (<see cref="AfterCommit"/>), or now when
    /// there is none: what reads the database from elsewhere (a cache's reload) must see the change.
    /// </summary>
    public async Task AfterCommitAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        if (Database.CurrentTransaction is null) await work(cancellationToken);
        else (_afterCommit ??= []).Add(work);
    }

    /// <summary>Runs what waited for the commit, or drops it when the transaction rolled back.</summary>
    public sealed class AfterCommit : DbTransactionInterceptor
    {
        public override async Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (eventData.Context is not AuthServerDbContext { _afterCommit: { } waiting } db) return;
            db._afterCommit = null;
            foreach (var work in waiting) await work(cancellationToken);
        }

        public override void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData)
        {
            if (eventData.Context is AuthServerDbContext { _afterCommit: { } waiting } db)
            {
                db._afterCommit = null;
                foreach (var work in waiting) work(CancellationToken.None).GetAwaiter().GetResult();
            }
        }

        public override void TransactionRolledBack(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => Drop(eventData);

        public override Task TransactionRolledBackAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Drop(eventData);
            return Task.CompletedTask;
        }

        private static void Drop(TransactionEndEventData eventData)
        {
            if (eventData.Context is AuthServerDbContext db) db._afterCommit = null;
        }
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict<Application, Authorization, Scope, Token, string>();
        builder.ApplyConfigurationsFromAssembly(typeof(AuthServerDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder conventions)
    {
        // SQLite has no date type and EF cannot compare or order DateTimeOffset stored as text, which the expiry and
        // cleanup queries need. Unix milliseconds (all our times are UTC) keep comparisons in SQL and index-friendly.
        // PostgreSQL stores them the same way (bigint), so both schemas mean the same and the hand-written statements
        // bind the same values on either.
        conventions.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
        conventions.Properties<DateTimeOffset?>().HaveConversion<UnixMillisecondsConverter>();
    }

    internal sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
        value => value.ToUnixTimeMilliseconds(),
        value => DateTimeOffset.FromUnixTimeMilliseconds(value));
}

/// <summary>The model on SQLite; its migrations are in Data/Migrations/Sqlite.</summary>
public sealed class SqliteAuthServerDbContext(DbContextOptions<SqliteAuthServerDbContext> options) : AuthServerDbContext(options);

/// <summary>The model on PostgreSQL; its migrations are in Data/Migrations/PostgreSql.</summary>
public sealed class PostgreSqlAuthServerDbContext(DbContextOptions<PostgreSqlAuthServerDbContext> options) : AuthServerDbContext(options);
