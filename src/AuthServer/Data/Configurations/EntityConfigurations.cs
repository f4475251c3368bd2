using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AuthServer.Data.Configurations;

internal sealed class DeviceAuthorizationConfiguration : IEntityTypeConfiguration<DeviceAuthorization>
{
    public void Configure(EntityTypeBuilder<DeviceAuthorization> request)
    {
        request.ToTable("DeviceAuthorizations");
        request.HasKey(d => d.Id);
        // The id of OpenIddict's device code token: the login request is that code's product-side state.
        request.Property(d => d.Id).HasMaxLength(OpenIddictIdLength);
        request.Property(d => d.DeviceCodeHash).HasMaxLength(64);
        request.HasIndex(d => d.DeviceCodeHash).IsUnique();
        // Unique over every retained row, which is stricter than "unique among live codes"; the cleanup worker
        // deletes finished rows, so the space of 20^8 codes never fills up.
        request.Property(d => d.UserCode).HasMaxLength(UserCodeLength);
        request.HasIndex(d => d.UserCode).IsUnique();
        request.Property(d => d.ClientId).HasMaxLength(100);
        request.Property(d => d.Scope).HasMaxLength(1000);
        request.Property(d => d.DeviceName).HasMaxLength(100);
        request.Property(d => d.RequesterIp).HasMaxLength(64);
        request.Property(d => d.RequesterUserAgent).HasMaxLength(512);
        request.Property(d => d.Status).HasConversion<string>().HasMaxLength(20);
        request.Property(d => d.SubjectId).HasMaxLength(450);
        request.Property(d => d.LinkedDeviceId).HasMaxLength(OpenIddictIdLength);
        request.HasIndex(d => d.ExpiresAt);
        request.Property(d => d.ConfirmTicketHash).HasMaxLength(64);
        request.Property(d => d.ConfirmTicketDeviceId).HasMaxLength(OpenIddictIdLength);
        request.Property(d => d.DpopJkt).HasMaxLength(64);
    }

    private const int UserCodeLength = DeviceFlow.UserCode.Length;
    private const int OpenIddictIdLength = 64;
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

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> audit)
    {
        audit.ToTable("AuditEvents");
        audit.HasKey(a => a.Id);
        audit.Property(a => a.Type).HasMaxLength(100);
        audit.Property(a => a.UserId).HasMaxLength(450);
        audit.Property(a => a.ClientId).HasMaxLength(100);
        audit.Property(a => a.ActorId).HasMaxLength(450);
        audit.Property(a => a.ActorName).HasMaxLength(256);
        audit.Property(a => a.Ip).HasMaxLength(64);
        audit.Property(a => a.Detail).HasMaxLength(Audit.MaxDetailLength);
        audit.HasIndex(a => a.At);
        // The audit page filters by these, and the dashboard counts today's events of a type.
        audit.HasIndex(a => new { a.Type, a.At });
        audit.HasIndex(a => a.UserId);
        audit.HasIndex(a => a.ClientId);
        audit.HasIndex(a => a.ActorId);
    }
}

internal sealed class AuthorizationConfiguration : IEntityTypeConfiguration<Authorization>
{
    public void Configure(EntityTypeBuilder<Authorization> authorization)
    {
        authorization.Property(a => a.DeviceName).HasMaxLength(100);
        authorization.Property(a => a.LastIp).HasMaxLength(64);
        authorization.Property(a => a.UserAgent).HasMaxLength(512);
    }
}

internal sealed class RefreshTokenUseConfiguration : IEntityTypeConfiguration<RefreshTokenUse>
{
    public void Configure(EntityTypeBuilder<RefreshTokenUse> use)
    {
        use.ToTable("RefreshTokenUses");
        use.HasKey(u => u.TokenId);
        use.Property(u => u.TokenId).HasMaxLength(64);
        use.Property(u => u.SuccessorId).HasMaxLength(64);
        // Pruned with its token.
        use.HasOne<Token>().WithOne().HasForeignKey<RefreshTokenUse>(u => u.TokenId).OnDelete(DeleteBehavior.Cascade);
    }
}
