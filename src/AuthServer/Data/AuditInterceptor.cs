using System.Runtime.CompilerServices;
using System.Security.Claims;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace AuthServer.Data;

/// <summary>
/// Audits inside the <c>SaveChanges</c> that makes the change, so the event and the change commit together:
/// <list type="bullet">
/// <item>OpenIddict's own writes, which no code of ours surrounds: an access token issued (one per token response), an
/// access or refresh token revoked, a linked device or a consent revoked;</item>
/// <item>for every event, who made it happen (the signed-in user of the request) and from where (the request's
/// address, after the trusted proxies), unless the code that added it said so already.</item>
/// </list>
/// </summary>
/// <remarks>
/// OpenIddict's stores read with change tracking, so a revocation shows as a tracked status change from its stored
/// value; a bulk revocation (<c>RevokeByAuthorizationIdAsync</c>, which follows a device's end) bypasses tracking and is
/// covered by the device's own event. When the save fails, the events this added are withdrawn with it.
/// </remarks>
public sealed class AuditInterceptor(IHttpContextAccessor http, TimeProvider clock) : SaveChangesInterceptor
{
    private readonly ConditionalWeakTable<AuditEvent, object> _ours = new();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Record(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Record(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Withdraw(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Withdraw(eventData.Context);
        return Task.CompletedTask;
    }

    private void Record(DbContext? context)
    {
        if (context is not AuthServerDbContext db) return;
        var tracker = db.ChangeTracker;
        // What is looked at here is set by Add and Update themselves (OpenIddict's and Identity's stores call them), so
        // the entries are read as they are: listing them would otherwise scan every tracked entity once more than the
        // save itself does, on every token request.
        var detecting = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            Record(db, tracker.Entries());
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = detecting;
        }
    }

    private void Record(AuthServerDbContext db, IEnumerable<EntityEntry> entries)
    {
        var request = http.HttpContext;
        var now = clock.GetUtcNow();
        List<AuditEvent>? raised = null;
        foreach (var entry in entries)
        {
            var audit = entry.Entity switch
            {
                Token token => TokenEvent(token, entry.State == EntityState.Added, BecameRevoked(entry), token.Application?.ClientId, request, now),
                Authorization authorization => BecameRevoked(entry) ? RevocationEvent(authorization, authorization.Application?.ClientId, request, now) : null,
                _ => null,
            };
            if (audit is not null) (raised ??= []).Add(audit);
            else if (entry is { Entity: AuditEvent added, State: EntityState.Added }) Stamp(added, request);
        }
        if (raised is null) return;
        // TokenEvent and RevocationEvent stamped them when they made them.
        foreach (var audit in raised) _ours.AddOrUpdate(audit, audit);
        db.AuditEvents.AddRange(raised);
    }

    /// <summary>
    /// The event a token's write raises: an access token issued, or an access or refresh token revoked. Also used by
    /// <see cref="Stores.TokenStore"/>, which writes tokens without the change tracker.
    /// </summary>
    internal static AuditEvent? TokenEvent(Token token, bool added, bool revoked, string? clientId, HttpContext? request, DateTimeOffset now) =>
        Stamped(added && token.Type == TokenTypeIdentifiers.AccessToken ? new AuditEvent
        {
            Type = Audit.TokenIssued, At = now, UserId = token.Subject, ClientId = clientId,
            Detail = $"Access token ({GrantOf(request)}) for linked device {token.Authorization?.Id ?? token.AuthorizationId ?? "none"}.",
        }
        : revoked && token.Type is TokenTypeIdentifiers.AccessToken or TokenTypeIdentifiers.RefreshToken ? new AuditEvent
        {
            Type = Audit.TokenRevoked, At = now, UserId = token.Subject, ClientId = clientId,
            Detail = $"{(token.Type == TokenTypeIdentifiers.RefreshToken ? "Refresh" : "Access")} token {token.Id} of linked device {token.Authorization?.Id ?? token.AuthorizationId ?? "none"} revoked.",
        }
        : null, request);

    /// <summary>The event an authorization's revocation raises: a consent withdrawn, or a linked device logged out.</summary>
    internal static AuditEvent RevocationEvent(Authorization authorization, string? clientId, HttpContext? request, DateTimeOffset now) =>
        Stamped(authorization.Type == AuthorizationTypes.Permanent
            ? new AuditEvent
            {
                Type = Audit.ConsentRevoked, At = now, UserId = authorization.Subject, ClientId = clientId,
                Detail = $"Consent {authorization.Id} revoked.",
            }
            : new AuditEvent
            {
                Type = Audit.LinkedDeviceEnded, At = now, UserId = authorization.Subject, ClientId = clientId,
                Detail = $"{authorization.DeviceName ?? "A device"} ({authorization.Id}) is logged out; its tokens stop working.",
            }, request)!;

    // The stores write these events without SaveChanges, so they are stamped when they are made.
    private static AuditEvent? Stamped(AuditEvent? audit, HttpContext? request)
    {
        if (audit is not null) Stamp(audit, request);
        return audit;
    }

    /// <summary>Who and from where, from the request that caused the event, unless its writer already said.</summary>
    private static void Stamp(AuditEvent audit, HttpContext? request)
    {
        if (request is null) return;
        audit.Ip ??= request.Connection.RemoteIpAddress?.ToString();
        if (audit.ActorId is null && request.User.Identity?.IsAuthenticated == true
            && request.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } actorId)
        {
            audit.ActorId = actorId;
            audit.ActorName ??= request.User.Identity.Name;
        }
    }

    private static bool BecameRevoked(EntityEntry entry)
    {
        if (entry.State != EntityState.Modified) return false;
        var status = entry.Property(nameof(Token.Status));
        return status.CurrentValue as string == Statuses.Revoked && status.OriginalValue as string != Statuses.Revoked;
    }

    /// <summary>The grant the token response answers, as OpenIddict read it from the request.</summary>
    private static string GrantOf(HttpContext? request) =>
        request?.GetOpenIddictServerRequest()?.GrantType ?? "no grant";

    private void Withdraw(DbContext? context)
    {
        if (context is null) return;
        foreach (var entry in context.ChangeTracker.Entries<AuditEvent>().ToList())
        {
            if (entry.State == EntityState.Added && _ours.TryGetValue(entry.Entity, out _)) entry.State = EntityState.Detached;
        }
    }
}
