using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AuthServer.Tests.Data;

/// <summary>
/// Writers queue on the gate instead of racing for SQLite's lock. A gate that is not given back on some path would
/// stall every later writer, so every way a write can end is checked to leave it free.
/// </summary>
public sealed class SqliteWriteGateTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private SqliteWriteGate Gate => factory.Services.GetRequiredService<SqliteWriteGate>();

    [Fact]
    public async Task A_committed_transaction_gives_the_gate_back()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            Gate.IsHeld.ShouldBeTrue();
            db.AuditEvents.Add(Event("committed"));
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }
        Gate.IsHeld.ShouldBeFalse();
        (await db.AuditEvents.CountAsync(e => e.Detail == "committed")).ShouldBe(1);
    }

    [Fact]
    public async Task A_rolled_back_or_abandoned_transaction_gives_the_gate_back()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.AuditEvents.Add(Event("rolled back"));
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }
        Gate.IsHeld.ShouldBeFalse();

        db.ChangeTracker.Clear();
        await using (await db.Database.BeginTransactionAsync())
        {
            db.AuditEvents.Add(Event("abandoned"));
            await db.SaveChangesAsync();
            // Disposed without commit or rollback, as when a handler returns early or throws.
        }
        Gate.IsHeld.ShouldBeFalse();
        (await db.AuditEvents.CountAsync(e => e.Detail == "rolled back" || e.Detail == "abandoned")).ShouldBe(0);
    }

    [Fact]
    public async Task A_transaction_abandoned_on_a_connection_held_open_gives_the_gate_back()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        await db.Database.OpenConnectionAsync();
        await using (await db.BeginWriteAsync(CancellationToken.None))
        {
            db.AuditEvents.Add(Event("abandoned on a kept connection"));
            await db.SaveChangesAsync();
        }

        // The connection is still open (EF closes only what it opened), yet EF's report of the disposed transaction
        // freed the gate.
        db.Database.GetDbConnection().State.ShouldBe(System.Data.ConnectionState.Open);
        Gate.IsHeld.ShouldBeFalse();
    }

    [Fact]
    public async Task A_failed_statement_gives_the_gate_back()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        var first = Event("duplicate");
        db.AuditEvents.Add(first);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();

        db.AuditEvents.Add(Event("duplicate", id: first.Id));
        await Should.ThrowAsync<DbUpdateException>(() => db.SaveChangesAsync());
        Gate.IsHeld.ShouldBeFalse();

        var updated = await db.AuditEvents.Where(e => e.Id == first.Id).ExecuteUpdateAsync(s => s.SetProperty(e => e.Detail, "updated"));
        updated.ShouldBe(1);
        Gate.IsHeld.ShouldBeFalse();
    }

    [Fact]
    public async Task A_hand_written_writer_holds_the_gate_until_its_lease_ends_and_the_next_one_waits()
    {
        var first = await Gate.EnterAsync(CancellationToken.None);
        Gate.IsHeld.ShouldBeTrue();

        var second = Gate.EnterAsync(CancellationToken.None).AsTask();
        second.IsCompleted.ShouldBeFalse();

        first.Dispose();
        (await second).Dispose();
        Gate.IsHeld.ShouldBeFalse();
    }

    [Fact]
    public async Task Many_concurrent_writers_all_commit()
    {
        const int writers = 48;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async i =>
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.AuditEvents.Add(Event("concurrent", userId: $"writer-{i}"));
            await db.SaveChangesAsync();
            // Yield inside the transaction, so other writers are queued on the gate meanwhile.
            await Task.Yield();
            await db.AuditEvents.Where(e => e.Detail == "concurrent" && e.UserId == $"writer-{i}")
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.ClientId, "done"));
            await transaction.CommitAsync();
        }));

        Gate.IsHeld.ShouldBeFalse();
        await using var check = factory.Services.CreateAsyncScope();
        (await check.ServiceProvider.GetRequiredService<AuthServerDbContext>().AuditEvents.CountAsync(e => e.Detail == "concurrent")).ShouldBe(writers);
    }

    private AuditEvent Event(string detail, long id = 0, string? userId = null) => new()
    {
        Id = id,
        Type = "test",
        At = factory.Clock.GetUtcNow(),
        UserId = userId,
        Detail = detail,
    };
}
