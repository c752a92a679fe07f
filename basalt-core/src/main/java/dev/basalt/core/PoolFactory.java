package dev.basalt.core;

import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.VmConfig;

/** Makes and disposes of what the pools hold: READY clones and paused VMs preloaded with a template. */
final class PoolFactory implements PoolSet.Factory {
    private final TemplateCache templates;
    private final Disks disks;
    private final RunRoot runRoot;
    private final Hypervisor hypervisor;
    private final SandboxBuilder builder;
    private final SandboxRegistry registry;

    PoolFactory(TemplateCache templates, Disks disks, RunRoot runRoot, Hypervisor hypervisor, SandboxBuilder builder,
                SandboxRegistry registry) {
        this.templates = templates;
        this.disks = disks;
        this.runRoot = runRoot;
        this.hypervisor = hypervisor;
        this.builder = builder;
        this.registry = registry;
    }

    @Override
    public ManagedSandbox warmSandbox(TemplateKey key, SandboxSpec spec) {
        Template template = templates.get(key);
        String id = SandboxIds.next();
        // unregistered and silent until a create takes it
        var dir = runRoot.create(id);
        VmConfig config;
        try {
            config = disks.attach(id, template.cloneConfig(id));
        } catch (RuntimeException e) {
            runRoot.delete(dir);
            throw e;
        }
        ManagedSandbox sandbox = new ManagedSandbox(id, spec, config, dir, hypervisor,
                "template:" + template.name(), event -> { });
        try {
            builder.fromTemplate(sandbox, template, true);
            return sandbox;
        } catch (RuntimeException e) {
            disposeSandbox(sandbox);
            throw e;
        }
    }

    @Override
    public Standby standbyVm(TemplateKey key, SandboxSpec spec) {
        Template template = templates.get(key);
        String id = SandboxIds.next();
        var dir = runRoot.create(id);
        try {
            return builder.standby(id, dir, template, disks.attach(id, template.cloneConfig(id)), spec);
        } catch (RuntimeException e) {
            runRoot.delete(dir);
            disks.delete(id);
            throw e;
        }
    }

    @Override
    public void disposeSandbox(ManagedSandbox sandbox) {
        registry.discard(sandbox);
    }

    @Override
    public void disposeStandby(Standby standby) {
        standby.agent().close();
        standby.vm().kill();
        runRoot.delete(standby.dir());
        disks.delete(standby.id());
    }
}
