using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AuthServer.Data.Configurations;

internal sealed class ClientConfiguration : IEntityTypeConfiguration<Client>
{
    public void Configure(EntityTypeBuilder<Client> client)
    {
        client.ToTable("Clients");
        client.HasKey(c => c.ClientId);
        client.Property(c => c.ClientId).HasMaxLength(100);
        client.Property(c => c.DisplayName).HasMaxLength(200);
        client.Property(c => c.Type).HasConversion<string>().HasMaxLength(20);
        // Database defaults equal to a new client definition's, so a row written without these columns is complete.
        client.Property(c => c.NumberMatching).HasDefaultValue(false);
        client.Property(c => c.RequireDpop).HasDefaultValue(false);
        client.Property(c => c.RefreshTokenAbsoluteLifetimeSeconds).HasDefaultValue(30 * 24 * 3600);
        client.Property(c => c.RefreshTokenIdleLifetimeSeconds).HasDefaultValue(14 * 24 * 3600);
    }
}

internal sealed class DeviceAuthorizationConfiguration : IEntityTypeConfiguration<DeviceAuthorization>
{
    public void Configure(EntityTypeBuilder<DeviceAuthorization> request)
    {
        request.ToTable("DeviceAuthorizations");
        request.HasKey(d => d.Id);
        request.Property(d => d.Id).HasMaxLength(32);
        request.Property(d => d.DeviceCodeHash).HasMaxLength(64);
        request.HasIndex(d => d.DeviceCodeHash).IsUnique();
        // Unique over every retained row, which is stricter than "unique among live codes"; the cleanup worker
        // deletes finished rows, so the space of 20^8 codes never fills up.
        request.Property(d => d.UserCode).HasMaxLength(UserCodeLength);
        request.HasIndex(d => d.UserCode).IsUnique();
        request.Property(d => d.ClientId).HasMaxLength(100);
        request.HasOne<Client>().WithMany().HasForeignKey(d => d.ClientId).OnDelete(DeleteBehavior.Cascade);
        request.Property(d => d.Scope).HasMaxLength(1000);
        request.Property(d => d.DeviceName).HasMaxLength(100);
        request.Property(d => d.RequesterIp).HasMaxLength(64);
        request.Property(d => d.RequesterUserAgent).HasMaxLength(512);
        request.Property(d => d.Status).HasConversion<string>().HasMaxLength(20);
        request.Property(d => d.SubjectId).HasMaxLength(450);
        request.Property(d => d.LinkedDeviceId).HasMaxLength(32);
        request.HasIndex(d => d.ExpiresAt);
        request.Property(d => d.ConfirmTicketHash).HasMaxLength(64);
        request.Property(d => d.ConfirmTicketDeviceId).HasMaxLength(32);
        request.Property(d => d.DpopJkt).HasMaxLength(64);
    }

    private const int UserCodeLength = DeviceFlow.UserCode.Length;
}

internal sealed class LinkedDeviceConfiguration : IEntityTypeConfiguration<LinkedDevice>
{
    public void Configure(EntityTypeBuilder<LinkedDevice> device)
    {
        device.ToTable("LinkedDevices");
        device.HasKey(d => d.Id);
        device.Property(d => d.Id).HasMaxLength(32);
        device.Property(d => d.UserId).HasMaxLength(450);
        device.HasOne<ApplicationUser>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.Cascade);
        device.HasIndex(d => d.UserId);
        device.Property(d => d.ClientId).HasMaxLength(100);
        device.HasOne<Client>().WithMany().HasForeignKey(d => d.ClientId).OnDelete(DeleteBehavior.Cascade);
        device.Property(d => d.Name).HasMaxLength(100);
        device.Property(d => d.LastIp).HasMaxLength(64);
        device.Property(d => d.UserAgent).HasMaxLength(512);
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> token)
    {
        token.ToTable("RefreshTokens");
        token.HasKey(t => t.Id);
        token.Property(t => t.Id).HasMaxLength(32);
        token.Property(t => t.TokenHash).HasMaxLength(64);
        token.HasIndex(t => t.TokenHash).IsUnique();
        token.Property(t => t.FamilyId).HasMaxLength(32);
        token.HasIndex(t => t.FamilyId);
        token.Property(t => t.ClientId).HasMaxLength(100);
        token.Property(t => t.UserId).HasMaxLength(450);
        token.Property(t => t.LinkedDeviceId).HasMaxLength(32);
        token.HasOne<LinkedDevice>().WithMany().HasForeignKey(t => t.LinkedDeviceId).OnDelete(DeleteBehavior.Cascade);
        token.Property(t => t.Scope).HasMaxLength(1000);
        token.HasIndex(t => t.ExpiresAt);
        token.Property(t => t.ReplacedById).HasMaxLength(32);
        token.Property(t => t.Jkt).HasMaxLength(64);
    }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> key)
    {
        key.ToTable("SigningKeys");
        key.HasKey(k => k.Id);
        key.Property(k => k.Id).HasMaxLength(64);
        key.Property(k => k.Algorithm).HasMaxLength(10);
        key.Property(k => k.Status).HasConversion<string>().HasMaxLength(20);
    }
}

internal sealed class AuthorizationCodeConfiguration : IEntityTypeConfiguration<AuthorizationCode>
{
    public void Configure(EntityTypeBuilder<AuthorizationCode> code)
    {
        code.ToTable("AuthorizationCodes");
        code.HasKey(c => c.Id);
        code.Property(c => c.Id).HasMaxLength(32);
        code.Property(c => c.CodeHash).HasMaxLength(64);
        code.HasIndex(c => c.CodeHash).IsUnique();
        code.Property(c => c.ClientId).HasMaxLength(100);
        code.HasOne<Client>().WithMany().HasForeignKey(c => c.ClientId).OnDelete(DeleteBehavior.Cascade);
        code.Property(c => c.UserId).HasMaxLength(450);
        code.HasOne<ApplicationUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        code.Property(c => c.RedirectUri).HasMaxLength(2000);
        code.Property(c => c.Scope).HasMaxLength(1000);
        code.Property(c => c.CodeChallenge).HasMaxLength(128);
        code.Property(c => c.Nonce).HasMaxLength(500);
        code.Property(c => c.DeviceName).HasMaxLength(100);
        code.Property(c => c.LinkedDeviceId).HasMaxLength(32);
        code.HasIndex(c => c.ExpiresAt);
    }
}

internal sealed class ConsentConfiguration : IEntityTypeConfiguration<Consent>
{
    public void Configure(EntityTypeBuilder<Consent> consent)
    {
        consent.ToTable("Consents");
        consent.HasKey(c => new { c.UserId, c.ClientId });
        consent.Property(c => c.UserId).HasMaxLength(450);
        consent.HasOne<ApplicationUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        consent.Property(c => c.ClientId).HasMaxLength(100);
        consent.HasOne<Client>().WithMany().HasForeignKey(c => c.ClientId).OnDelete(DeleteBehavior.Cascade);
        consent.Property(c => c.Scope).HasMaxLength(1000);
    }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> audit)
    {
        audit.ToTable("AuditEvents");
        audit.HasKey(a => a.Id);
        audit.Property(a => a.Type).HasMaxLength(100);
        audit.Property(a => a.UserId).HasMaxLength(450);
        audit.Property(a => a.ClientId).HasMaxLength(100);
        audit.Property(a => a.Detail).HasMaxLength(2000);
        audit.HasIndex(a => a.At);
    }
}

internal sealed class RevokedAccessTokenConfiguration : IEntityTypeConfiguration<RevokedAccessToken>
{
    public void Configure(EntityTypeBuilder<RevokedAccessToken> revoked)
    {
        revoked.ToTable("RevokedAccessTokens");
        revoked.HasKey(r => r.Jti);
        revoked.Property(r => r.Jti).HasMaxLength(64);
        revoked.HasIndex(r => r.ExpiresAt);
    }
}
