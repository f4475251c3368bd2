using AuthServer.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AuthServer.Data.Configurations;

internal sealed class BrowserSignInConfiguration : IEntityTypeConfiguration<BrowserSignIn>
{
    public void Configure(EntityTypeBuilder<BrowserSignIn> binding)
    {
        binding.ToTable("BrowserSignIns");
        binding.HasKey(b => b.Id);
        binding.Property(b => b.Id).HasMaxLength(64);
        binding.Property(b => b.BindingHash).HasMaxLength(64);
        // The cleanup worker deletes finished login requests; their bindings go with them.
        binding.HasOne<DeviceAuthorization>().WithOne().HasForeignKey<BrowserSignIn>(b => b.Id).OnDelete(DeleteBehavior.Cascade);
    }
}
